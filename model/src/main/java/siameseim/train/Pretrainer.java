package siameseim.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import siameseim.checkpoint.CheckpointFormat;
import siameseim.config.OptimConfig;
import siameseim.config.PretrainConfig;
import siameseim.model.nn.Autograd;
import siameseim.model.nn.CrossReplicaMean;
import siameseim.model.nn.Torch;
import siameseim.model.optim.AdamW;
import siameseim.model.optim.GradientReducer;
import siameseim.model.optim.LrSchedule;
import siameseim.model.optim.MomentumSchedule;
import siameseim.model.optim.WeightDecayRule;
import siameseim.batch.SiameseBatch;
import siameseim.model.siameseim.SiameseIM;
import siameseim.model.siameseim.SiameseInputs;
import siameseim.model.siameseim.UniGradLoss;

/**
 * One replica's SiameseIM training step (spec 2-4): EMA update with this iteration's momentum;
 * per micro-batch {@link #forwardBackward} (the spec's forward pass and loss,
 * {@link SiameseIM#forward}, then the backward); gradient reduction across replicas, global-norm
 * clipping, AdamW.
 * Every step's activations live in a sub-manager that is closed at the end of the step.
 *
 * <p>Must be used from one thread (libtorch grad mode and DJL's GradientCollector are per thread
 * and per process respectively).
 */
public final class Pretrainer implements Trainer {
    private final PretrainConfig cfg;
    private final NDManager root;
    private final SiameseIM model;
    private final AdamW optimizer;
    private final LrSchedule lr;
    private final MomentumSchedule momentum;
    private final MixedPrecision precision;
    private final UpdatePath update;

    /**
     * @param stepsPerEpoch optimizer steps per epoch (sets the fractional epoch of the schedules)
     * @param reducer gradient averaging over replicas ({@link GradientReducer#IDENTITY} for one)
     * @param replicas BatchNorm/correlation reduction ({@link CrossReplicaMean#SINGLE} for one)
     */
    public Pretrainer(PretrainConfig cfg, long stepsPerEpoch, GradientReducer reducer, CrossReplicaMean replicas) {
        this(cfg, stepsPerEpoch, reducer, replicas, null);
    }

    /** @param device where the replica's tensors live (null: the engine's default, CPU here) */
    public Pretrainer(PretrainConfig cfg, long stepsPerEpoch, GradientReducer reducer, CrossReplicaMean replicas,
            ai.djl.Device device) {
        this(cfg, stepsPerEpoch, reducer, replicas, device, MixedPrecision.fp32());
    }

    /** @param precision the forward passes' precision and loss scaling (train.precision, resolved) */
    public Pretrainer(PretrainConfig cfg, long stepsPerEpoch, GradientReducer reducer, CrossReplicaMean replicas,
            ai.djl.Device device, MixedPrecision precision) {
        Torch.init(cfg.train().threads());
        this.cfg = cfg;
        this.root = device == null ? NDManager.newBaseManager() : NDManager.newBaseManager(device);
        this.model = new SiameseIM(root, cfg.model(), cfg.negWeight(), cfg.train().seed());
        model.setCrossReplica(replicas);
        OptimConfig o = cfg.optim();
        this.optimizer = new AdamW(root, model.trainableParams(), o.beta1(), o.beta2(), o.eps(), o.weightDecay(),
                WeightDecayRule.PRETRAIN, name -> 1.0);
        this.lr = new LrSchedule(o.peakLr(), o.minLr(), o.warmupEpochs(), o.epochs());
        this.momentum = new MomentumSchedule(cfg.ema().momentum(), o.epochs(), cfg.ema().cosine());
        this.precision = precision;
        this.update = new UpdatePath(model, CheckpointFormat.architecture(cfg.model()), optimizer, reducer,
                stepsPerEpoch, cfg.json(), Map.of(UpdatePath.GLOBAL_BATCH, Integer.toString(o.batchSize())),
                "lower optim.lr or check the input data", "optim.batch-size", precision);
    }

    @Override
    public SiameseIM model() {
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

    /**
     * One optimizer step over {@code micro} (accum-steps micro-batches of this replica).
     *
     * @throws IllegalStateException after too many non-finite steps in a row
     */
    public StepResult step(List<SiameseBatch> micro) {
        Torch.disableGradOnThisThread();
        double epoch = epoch();
        double lrNow = lr.at(epoch);
        double m = momentum.at(epoch);
        long t0 = System.nanoTime();
        double loss = 0;
        double pos = 0;
        double neg = 0;
        int images = 0;
        long step = step();
        try (NDManager sm = root.newSubManager()) {
            if (step > 0) {
                model.updateTarget(m);
            }
            float share = 1f / micro.size();
            for (SiameseBatch b : micro) {
                UniGradLoss.Result r = forwardBackward(SiameseInputs.of(b, sm), share).loss();
                loss += r.loss().getFloat() * share;
                pos += r.pos().getFloat() * share;
                neg += r.neg().getFloat() * share;
                images += b.size();
            }
        }
        double computeMs = (System.nanoTime() - t0) / 1e6;
        UpdatePath.Applied u = update.apply(loss, lrNow, cfg.optim().clipGrad());
        return new StepResult(step, epoch, loss, pos, neg, lrNow, m, u.gradNorm(), u.skipped(), images, computeMs,
                u.reduceMs(), u.updateMs());
    }

    /**
     * The forward pass, loss and backward of one micro-batch, as the step runs them: the forward
     * in the trainer's precision, then the loss times {@code scale} (1 / micro-batches) and the
     * loss scale (1 in fp32) is differentiated and its gradients added to the online tensors'
     * gradients. The golden reference test drives this call.
     */
    public SiameseIM.Forward forwardBackward(SiameseInputs x, float scale) {
        try (Autograd gc = Autograd.record()) {
            SiameseIM.Forward f = precision.forward(() -> model.forward(x.view1(), x.visible(), x.geometry(),
                    x.view2()));
            NDArray loss = f.loss().loss();
            gc.backward(precision.scaled(loss, scale));
            return f;
        }
    }

    /** The precision of the forward passes and the loss scale of the gradients they leave. */
    public MixedPrecision precision() {
        return precision;
    }

    @Override
    public void save(OutputStream out) throws IOException {
        update.save(out);
    }

    /**
     * Restores weights, target, BatchNorm buffers, optimizer moments and the step counter.
     *
     * @return the checkpoint's progress (step, epoch and the trainer's entries)
     */
    @Override
    public CheckpointFormat.Progress restore(InputStream in, String source) throws IOException {
        try (NDManager tmp = root.newSubManager()) {
            return update.restore(in, source, tmp);
        }
    }

    public PretrainConfig config() {
        return cfg;
    }

    @Override
    public void close() {
        root.close();
    }
}
