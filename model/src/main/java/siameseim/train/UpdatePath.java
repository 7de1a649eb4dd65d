package siameseim.train;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import siameseim.checkpoint.CheckpointFormat;
import siameseim.model.nn.Module;
import siameseim.model.optim.AdamW;
import siameseim.model.optim.FlatGradients;
import siameseim.model.optim.GradientReducer;

/**
 * The one update path of every trainer, after its backward passes (spec 4): the gradients averaged
 * across replicas in one flat buffer, a step whose loss or gradient norm is not finite skipped
 * (gradients zeroed; too many in a row fail the run with the tensors at fault), global-norm
 * clipping, AdamW. In fp16-mixed the gradients arrive multiplied by the loss scale
 * ({@link MixedPrecision}): the norm is divided by it, and AdamW takes 1 / scale times the clipping
 * coefficient as its gradient factor, so unscaling costs no pass over the gradients; in fp32 the
 * scale is 1 and the arithmetic is the plain one. It also holds the optimizer step counter, and so
 * is the one place that saves and restores a trainer's state: weights, moments, step, the loss
 * scale and the checkpoint entries resume checks.
 */
final class UpdatePath {
    private static final int MAX_CONSECUTIVE_SKIPS = 10;
    /** The checkpoint entry that resume compares: steps and data position count global batches. */
    static final String GLOBAL_BATCH = CheckpointFormat.GLOBAL_BATCH;

    private final Module model;
    private final Map<String, String> architecture;
    private final AdamW optimizer;
    private final GradientReducer reducer;
    private final FlatGradients flat;
    private final long stepsPerEpoch;
    private final String configJson;
    private final Map<String, String> entries;
    private final String hint;
    private final String batchKey;
    private final MixedPrecision precision;
    private int consecutiveSkips;
    private long step;

    /**
     * @param architecture the keys that fix the model's shapes (compared on restore)
     * @param entries checkpoint entries beside the state, {@link #GLOBAL_BATCH} among them
     * @param hint what the user can do when steps keep failing (e.g. "lower optim.lr")
     * @param batchKey the config key of the global batch, for resume's message
     */
    UpdatePath(Module model, Map<String, String> architecture, AdamW optimizer, GradientReducer reducer,
            long stepsPerEpoch, String configJson, Map<String, String> entries, String hint, String batchKey,
            MixedPrecision precision) {
        if (stepsPerEpoch < 1) {
            throw new IllegalArgumentException("an epoch must have at least one optimizer step, got " + stepsPerEpoch);
        }
        this.model = model;
        this.architecture = architecture;
        this.optimizer = optimizer;
        this.reducer = reducer;
        this.flat = reducer.replicas() > 1 ? new FlatGradients(model.trainableParams()) : null;
        this.stepsPerEpoch = stepsPerEpoch;
        this.configJson = configJson;
        this.entries = Map.copyOf(entries);
        this.hint = hint;
        this.batchKey = batchKey;
        this.precision = precision;
    }

    /** What {@link #apply} did: the gradient norm before clipping, whether it skipped, and its times. */
    record Applied(double gradNorm, boolean skipped, double reduceMs, double updateMs) {}

    long step() {
        return step;
    }

    double epoch() {
        return (double) step / stepsPerEpoch;
    }

    long stepsPerEpoch() {
        return stepsPerEpoch;
    }

    /**
     * Reduce, guard, clip ({@code clip} global norm, 0: none) and AdamW at {@code lr}, for the
     * gradients the step's backward passes left on the model; counts the step either way.
     */
    Applied apply(double loss, double lr, double clip) {
        long t0 = System.nanoTime();
        if (flat != null) {
            flat.gather();
            reducer.average(flat.bytes());
            flat.scatter();
        }
        long t1 = System.nanoTime();
        double scale = precision.lossScale();
        double norm = optimizer.gradNorm() / scale;
        boolean skip = !Double.isFinite(norm) || !Double.isFinite(loss);
        precision.update(!skip);
        if (skip) {
            List<String> bad = optimizer.nonFiniteGradients();
            optimizer.zeroGradients();
            // an overflow of scaled fp16 gradients is the loss scaler's business while it can back off
            boolean counts = !Double.isFinite(loss) || scale <= 1;
            if (counts && ++consecutiveSkips >= MAX_CONSECUTIVE_SKIPS) {
                throw new IllegalStateException("loss or gradient norm was not finite for " + consecutiveSkips
                        + " steps in a row (last step " + step + ", loss " + loss + ", grad norm " + norm
                        + ", non-finite gradients of " + bad.size() + " tensors, e.g. "
                        + bad.subList(0, Math.min(4, bad.size())) + "); " + hint);
            }
        } else {
            consecutiveSkips = 0;
            optimizer.step(lr, (clip > 0 ? Math.min(1.0, clip / (norm + 1e-6)) : 1.0) / scale);
        }
        step++;
        return new Applied(norm, skip, (t1 - t0) / 1e6, (System.nanoTime() - t1) / 1e6);
    }

    /** Writes the full training state as a checkpoint. */
    void save(OutputStream out) throws IOException {
        Map<String, String> all = new java.util.HashMap<>(entries);
        all.putAll(precision.state());
        CheckpointFormat.write(out, model, architecture, optimizer, new CheckpointFormat.Progress(step, epoch(), all),
                configJson);
    }

    /**
     * Restores weights, buffers, moments and the step from a checkpoint of the same architecture
     * and global batch (a checkpoint's step counts global batches: under another global batch the
     * schedule and the data position would not continue the run).
     */
    CheckpointFormat.Progress restore(InputStream in, String source, NDManager tmp) throws IOException {
        CheckpointFormat.Loaded ckpt = CheckpointFormat.read(in, tmp, source);
        String theirs = ckpt.progress().extra().get(GLOBAL_BATCH);
        String ours = entries.get(GLOBAL_BATCH);
        if (theirs != null && ours != null && !theirs.equals(ours)) {
            // not a damaged file: resuming must not fall back to an older checkpoint or start over
            throw new IllegalArgumentException(source + " was written with a global batch of " + theirs + " images"
                    + " and this run has " + ours + " (" + batchKey + "): its step " + ckpt.progress().step()
                    + " would not continue the schedule or the data order; set " + batchKey + " = " + theirs
                    + " to resume it");
        }
        CheckpointFormat.restore(ckpt, model, architecture, optimizer);
        precision.restore(ckpt.progress().extra(), source);
        this.step = ckpt.progress().step();
        return ckpt.progress();
    }
}
