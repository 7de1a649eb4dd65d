package siameseim.evaluate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.SplittableRandom;
import siameseim.collective.Collective;
import siameseim.config.EvalConfig;
import siameseim.model.nn.Autograd;
import siameseim.model.nn.Init;
import siameseim.model.nn.Scalars;
import siameseim.model.nn.Torch;
import siameseim.model.optim.LrSchedule;

/**
 * The linear probe of spec 5.3 on frozen features of one replica's share of the training set:
 * per-sample LayerNorm without affine (the fresh, frozen fc_norm), BatchNorm without affine
 * (eps 1e-6, this replica's batch statistics as in the reference, running statistics for
 * evaluation), Linear (weight trunc-normal std 0.01, bias 0), cross-entropy, LARS (trust ratio
 * and weight decay only for the weight matrix), warmup + half-cosine lr per iteration. Gradients
 * are averaged across replicas every step.
 */
public final class LinearProbeTrainer {
    private LinearProbeTrainer() {}

    /** The trained head: weight (C, D), bias (C), BatchNorm running mean and variance (D). */
    public record Head(float[] weight, float[] bias, float[] runningMean, float[] runningVar, int dim, int classes,
            double finalLoss) implements java.io.Serializable {}

    public static Head train(EvalConfig.Linear cfg, List<FeatureRow> local, int dim, int classes, long globalCount,
            Collective c, long seed) {
        Torch.init();
        int replicas = c == null ? 1 : c.size();
        int localBatch = Math.max(1, cfg.batchSize() / replicas);
        if (localBatch > local.size()) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "eval.linear.batch-size = %d"
                    + " needs %d training images per replica, this one has %d: lower eval.linear.batch-size",
                    cfg.batchSize(), localBatch, local.size()));
        }
        long stepsPerEpoch = Math.max(1, globalCount / ((long) localBatch * replicas));
        long total = (long) Math.ceil(cfg.epochs() * stepsPerEpoch);
        double peak = cfg.baseLr() * cfg.batchSize() / 256.0;
        LrSchedule lr = new LrSchedule(peak, 0, cfg.warmupEpochs(), cfg.epochs());
        SplittableRandom rng = new SplittableRandom(seed);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = Init.truncatedNormal(m, new SplittableRandom(seed), new Shape(classes, dim), 0.01);
            NDArray b = m.zeros(new Shape(classes));
            w.setRequiresGradient(true);
            b.setRequiresGradient(true);
            NDArray mw = m.zeros(w.getShape());
            NDArray mb = m.zeros(b.getShape());
            NDArray rmean = m.zeros(new Shape(dim));
            NDArray rvar = m.ones(new Shape(dim));
            NDArray ones = m.ones(new Shape(dim));
            NDArray zeros = m.zeros(new Shape(dim));
            int[] order = new int[local.size()];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            int pos = order.length;
            double loss = Double.NaN;
            ByteBuffer flat = ByteBuffer.allocateDirect((classes * dim + classes) * 4).order(ByteOrder.nativeOrder());
            for (long step = 0; step < total; step++) {
                if (pos + localBatch > order.length) {
                    shuffle(order, rng);
                    pos = 0;
                }
                float[] x = new float[localBatch * dim];
                float[] y = new float[localBatch];
                for (int i = 0; i < localBatch; i++) {
                    FeatureRow r = local.get(order[pos++]);
                    System.arraycopy(r.feature(), 0, x, i * dim, dim);
                    y[i] = r.label();
                }
                try (NDManager sm = m.newSubManager()) {
                    NDArray feats = sm.create(x, new Shape(localBatch, dim));
                    NDArray labels = sm.create(y, new Shape(localBatch));
                    try (Autograd ag = Autograd.record()) {
                        NDArray logits = forward(feats, w, b, rmean, rvar, ones, zeros, dim, true);
                        NDArray ce = logits.logSoftmax(1).mul(labels.oneHot(classes)).sum(new int[] {1}).neg().mean();
                        ag.backward(ce);
                        loss = ce.getFloat();
                    }
                    Torch.disableGradOnThisThread();
                    if (c != null) {
                        reduce(c, flat, w, b);
                    }
                    double now = lr.at((double) step / stepsPerEpoch);
                    lars(w, mw, now, cfg, true);
                    lars(b, mb, now, cfg, false);
                }
            }
            return new Head(w.toFloatArray(), b.toFloatArray(), rmean.toFloatArray(), rvar.toFloatArray(), dim, classes,
                    loss);
        }
    }

    /** LN (no affine, eps 1e-6) -> BN (no affine, eps 1e-6) -> Linear. */
    static NDArray forward(NDArray feats, NDArray w, NDArray b, NDArray rmean, NDArray rvar, NDArray ones,
            NDArray zeros, int dim, boolean training) {
        NDArray ln = feats.getNDArrayInternal().layerNorm(feats, new Shape(dim), ones, zeros, 1e-6f).singletonOrThrow();
        NDArray bn = ln.getNDArrayInternal().batchNorm(ln, rmean, rvar, ones, zeros, -1, 0.9f, 1e-6f, training)
                .singletonOrThrow();
        return bn.getNDArrayInternal().linear(bn, w, b).singletonOrThrow();
    }

    /** Top-1 accuracy of a trained head on features (BatchNorm in evaluation mode). */
    public static double accuracy(Head h, List<FeatureRow> test) {
        Torch.init();
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.create(h.weight(), new Shape(h.classes(), h.dim()));
            NDArray b = m.create(h.bias(), new Shape(h.classes()));
            NDArray rmean = m.create(h.runningMean(), new Shape(h.dim()));
            NDArray rvar = m.create(h.runningVar(), new Shape(h.dim()));
            NDArray ones = m.ones(new Shape(h.dim()));
            NDArray zeros = m.zeros(new Shape(h.dim()));
            int correct = 0;
            for (int from = 0; from < test.size(); from += 1024) {
                int n = Math.min(1024, test.size() - from);
                float[] x = new float[n * h.dim()];
                for (int i = 0; i < n; i++) {
                    System.arraycopy(test.get(from + i).feature(), 0, x, i * h.dim(), h.dim());
                }
                try (NDManager sm = m.newSubManager()) {
                    NDArray logits = forward(sm.create(x, new Shape(n, h.dim())), w, b, rmean, rvar, ones, zeros,
                            h.dim(), false);
                    long[] pred = logits.argMax(1).toType(DataType.INT64, false).toLongArray();
                    for (int i = 0; i < n; i++) {
                        if (pred[i] == test.get(from + i).label()) {
                            correct++;
                        }
                    }
                }
            }
            return correct / (double) test.size();
        }
    }

    private static void reduce(Collective c, ByteBuffer flat, NDArray w, NDArray b) {
        flat.clear();
        try (NDArray gw = w.getGradient();
                NDArray gb = b.getGradient()) {
            flat.asFloatBuffer().put(gw.toFloatArray()).put(gb.toFloatArray());
            c.allReduceMean(flat);
            float[] all = new float[(int) (gw.size() + gb.size())];
            flat.clear();
            flat.asFloatBuffer().get(all);
            try (NDArray nw = gw.getManager().create(java.util.Arrays.copyOf(all, (int) gw.size()), gw.getShape());
                    NDArray nb = gb.getManager().create(java.util.Arrays.copyOfRange(all, (int) gw.size(), all.length),
                            gb.getShape())) {
                gw.muli(0).addi(nw);
                gb.muli(0).addi(nb);
            }
        }
    }

    /** One LARS step (spec 5.3): trust ratio and weight decay only for matrices. */
    private static void lars(NDArray p, NDArray momentum, double lr, EvalConfig.Linear cfg, boolean matrix) {
        try (NDManager t = p.getManager().newSubManager();
                NDArray g = p.getGradient()) {
            NDArray update = g.duplicate();
            update.attach(t);
            if (matrix) {
                // results of operations on p belong to p's manager unless moved into t
                if (cfg.weightDecay() > 0) {
                    NDArray decay = Scalars.mul(p, cfg.weightDecay());
                    decay.attach(t);
                    update = update.add(decay);
                }
                NDArray norm = p.norm();
                norm.attach(t);
                double pn = norm.getFloat();
                double gn = update.norm().getFloat();
                double ratio = pn > 0 && gn > 0 ? cfg.trust() * pn / gn : 1.0;
                update = Scalars.mul(update, ratio);
            }
            momentum.muli((float) cfg.momentum()).addi(update);
            try (NDArray s = Scalars.mul(momentum, lr)) {
                p.subi(s);
            }
            g.subi(g);
        }
    }

    private static void shuffle(int[] a, SplittableRandom rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
