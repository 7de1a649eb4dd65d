package siameseim.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import siameseim.batch.LabelledBatch;
import siameseim.checkpoint.CheckpointFormat;
import siameseim.config.FinetuneConfig;
import siameseim.config.ModelConfig;
import siameseim.model.nn.Autograd;
import siameseim.model.nn.Torch;
import siameseim.model.optim.AdamW;
import siameseim.model.optim.GradientReducer;
import siameseim.model.optim.LrSchedule;
import siameseim.model.optim.WeightDecayRule;
import siameseim.model.vit.VitClassifier;

/**
 * One replica's fine-tuning step (spec 5.2): forward of the classifier with drop path,
 * soft-target cross-entropy against the mixup targets, backward per micro-batch, gradient
 * averaging across replicas, optional clipping (none in the reference), AdamW with layer-wise lr
 * decay and the fine-tuning weight-decay rule, per-iteration warmup + half-cosine to min-lr.
 *
 * <p>Use from one thread (libtorch grad mode is per thread).
 */
public final class Finetuner implements Trainer {
    /** The checkpoint entry holding the class names (a JSON list), which {@code evaluate} reads. */
    public static final String CLASS_NAMES = "classes";
    private final FinetuneConfig cfg;
    private final NDManager root;
    private final VitClassifier model;
    private final AdamW optimizer;
    private final LrSchedule lr;
    private final UpdatePath update;
    private final MixedPrecision precision;
    private final long seed;
    private final int rank;

    /**
     * @param rank this replica's rank (drop-path masks are drawn from (seed, rank, step), so a
     *     resumed run repeats the uninterrupted one exactly)
     * @param classNames the dataset's class names, kept in the checkpoints for {@code evaluate}
     * @param precision the forward passes' precision and loss scaling (train.precision, resolved)
     */
    public Finetuner(FinetuneConfig cfg, ModelConfig arch, int classes, List<String> classNames, long seed, int rank,
            long stepsPerEpoch, GradientReducer reducer, ai.djl.Device device, String configJson,
            MixedPrecision precision) {
        this.cfg = cfg;
        this.seed = seed;
        this.rank = rank;
        this.root = device == null ? NDManager.newBaseManager() : NDManager.newBaseManager(device);
        this.model = new VitClassifier(root, arch, classes, cfg.dropPath(), seed);
        int depth = arch.encoder().depth();
        this.optimizer = new AdamW(root, model.trainableParams(), cfg.beta1(), cfg.beta2(), 1e-8, cfg.weightDecay(),
                WeightDecayRule.FINETUNE, name -> VitClassifier.layerScale(name, depth, cfg.layerDecay()));
        this.lr = new LrSchedule(cfg.peakLr(), cfg.minLr(), cfg.warmupEpochs(), cfg.epochs());
        this.update = new UpdatePath(model, CheckpointFormat.classifierArchitecture(arch, classes), optimizer, reducer,
                stepsPerEpoch, configJson, Map.of(UpdatePath.GLOBAL_BATCH, Integer.toString(cfg.batchSize()),
                        CLASS_NAMES, new com.google.gson.Gson().toJson(classNames)),
                "lower finetune.base-lr or check the input data", "finetune.batch-size", precision);
        this.precision = precision;
    }

    @Override
    public VitClassifier model() {
        return model;
    }

    public AdamW optimizer() {
        return optimizer;
    }

    @Override
    public long step() {
        return update.step();
    }

    public double epoch() {
        return update.epoch();
    }

    public long stepsPerEpoch() {
        return update.stepsPerEpoch();
    }

    /** One optimizer step over this replica's micro-batches. */
    public StepResult step(List<LabelledBatch> micro) {
        Torch.disableGradOnThisThread();
        double epoch = epoch();
        double lrNow = lr.at(epoch);
        long step = step();
        long t0 = System.nanoTime();
        double loss = 0;
        int images = 0;
        float share = 1f / micro.size();
        model.encoder().setDropPathRandom(new SplittableRandom(seed * 0x9E3779B97F4A7C15L + rank * 1_000_003L + step));
        try (NDManager sm = root.newSubManager()) {
            for (LabelledBatch b : micro) {
                NDArray x = sm.create(b.images(), new Shape(b.size(), 3, b.imageSize(), b.imageSize()));
                NDArray t = sm.create(b.targets(), new Shape(b.size(), b.classes()));
                try (Autograd gc = Autograd.record()) {
                    NDArray ce = precision.forward(() -> softTargetCrossEntropy(model.forward(x, true), t));
                    gc.backward(precision.scaled(ce, share));
                    loss += ce.getFloat() * share;
                }
                images += b.size();
            }
        }
        double computeMs = (System.nanoTime() - t0) / 1e6;
        UpdatePath.Applied u = update.apply(loss, lrNow, cfg.clipGrad());
        return new StepResult(step, epoch, loss, Double.NaN, Double.NaN, lrNow, Double.NaN, u.gradNorm(), u.skipped(),
                images, computeMs, u.reduceMs(), u.updateMs());
    }

    /** mean over the batch of -sum(target * log_softmax(logits)) (timm SoftTargetCrossEntropy). */
    public static NDArray softTargetCrossEntropy(NDArray logits, NDArray targets) {
        return logits.logSoftmax(1).mul(targets).sum(new int[] {1}).neg().mean();
    }

    /**
     * Top-1 and top-5 hits of {@code n} normalised images (evaluation mode: no drop path).
     *
     * @return {top-1 hits, top-5 hits}
     */
    public long[] evaluate(float[] images, int imageSize, int[] labels) {
        Torch.disableGradOnThisThread();
        int n = labels.length;
        try (NDManager sm = root.newSubManager()) {
            NDArray logits = model.forward(sm.create(images, new Shape(n, 3, imageSize, imageSize)), false);
            return hits(logits, labels);
        }
    }

    /** Top-1 and top-5 hits of logits (n, C) against labels. */
    public static long[] hits(NDArray logits, int[] labels) {
        int classes = (int) logits.getShape().get(1);
        int k = Math.min(5, classes);
        long[] top = logits.argSort(1, false).toType(DataType.INT64, false).toLongArray();
        long top1 = 0;
        long top5 = 0;
        for (int i = 0; i < labels.length; i++) {
            if (top[i * classes] == labels[i]) {
                top1++;
            }
            for (int j = 0; j < k; j++) {
                if (top[i * classes + j] == labels[i]) {
                    top5++;
                    break;
                }
            }
        }
        return new long[] {top1, top5};
    }

    @Override
    public void save(OutputStream out) throws IOException {
        update.save(out);
    }

    @Override
    public CheckpointFormat.Progress restore(InputStream in, String src) throws IOException {
        try (NDManager tmp = root.newSubManager()) {
            return update.restore(in, src, tmp);
        }
    }

    @Override
    public void close() {
        root.close();
    }
}
