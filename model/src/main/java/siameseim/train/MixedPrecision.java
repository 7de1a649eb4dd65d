package siameseim.train;

import ai.djl.Device;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import ai.djl.ndarray.NDArray;
import siameseim.model.nn.Autocast;
import siameseim.model.nn.Scalars;

/**
 * The precision a trainer runs its forward passes in, and the loss scale that goes with it: fp32,
 * or fp16 mixed precision as the official code trains with {@code torch.cuda.amp} (autocast plus
 * a GradScaler).
 *
 * <p>fp16-mixed: each forward pass runs with libtorch's autocast on in the calling thread
 * ({@link Autocast}: matrix products and convolutions in fp16, parameters, their gradients and
 * the optimizer in fp32), and its cache of fp16 weight copies is dropped after every pass (the
 * weights change at every step). The loss is multiplied by {@link #lossScale} before the
 * backward so that small fp16 gradients do not flush to zero; the update path divides it out
 * again ({@code UpdatePath.apply}). Dynamic scaling as GradScaler does it: 2^16 to start, x2
 * after 2 000 steps in a row without an overflow, x0.5 and the step skipped on one. Every replica
 * skips together without an exchange of its own: a non-finite gradient on any replica makes the
 * all-reduced gradient, and so its norm, non-finite on every replica. The scale and its growth
 * counter are in the checkpoint, so resume stays step-exact.
 */
public final class MixedPrecision {
    static final double INITIAL_SCALE = 65536;
    static final int GROWTH_INTERVAL = 2000;
    static final String SCALE = siameseim.checkpoint.CheckpointFormat.LOSS_SCALE;
    static final String GROWTH_TRACKER = siameseim.checkpoint.CheckpointFormat.LOSS_SCALE_GROWTH;

    private final Device device;
    private final boolean fp16;
    private double scale;
    private int sinceOverflow;

    private MixedPrecision(Device device, boolean fp16) {
        this.device = device;
        this.fp16 = fp16;
        this.scale = fp16 ? INITIAL_SCALE : 1;
    }

    /** Full fp32: no autocast, a loss scale of 1 (the update path's arithmetic is then unchanged). */
    public static MixedPrecision fp32() {
        return new MixedPrecision(null, false);
    }

    /** fp16 autocast for {@code device} (null: the CPU) with dynamic loss scaling. */
    public static MixedPrecision fp16(Device device) {
        Autocast.load();
        return new MixedPrecision(device, true);
    }

    public boolean isFp16() {
        return fp16;
    }

    /** "fp32" or "fp16-mixed", as train.precision names them. */
    public String name() {
        return fp16 ? "fp16-mixed" : "fp32";
    }

    /** Runs one forward pass in this precision on the calling thread. */
    public <T> T forward(Supplier<T> pass) {
        if (!fp16) {
            return pass.get();
        }
        Autocast.set(device, true);
        try {
            return pass.get();
        } finally {
            Autocast.set(device, false);
            Autocast.clearCache();
        }
    }

    /**
     * The loss to differentiate: {@code loss} times {@code share} (1 / micro-batches) times the
     * loss scale, in fp32 (a 0-dim fp16 loss is promoted, as GradScaler's {@code loss * scale} is).
     */
    public NDArray scaled(NDArray loss, double share) {
        float factor = (float) (share * scale);
        return factor == 1f ? loss : Scalars.mulFp32(loss, factor);
    }

    /** What the loss is multiplied by before the backward pass (1 in fp32). */
    public double lossScale() {
        return scale;
    }

    /** After a step: an overflow halves the scale, 2 000 clean steps in a row double it. */
    public void update(boolean finite) {
        if (!fp16) {
            return;
        }
        if (!finite) {
            scale *= 0.5;
            sinceOverflow = 0;
        } else if (++sinceOverflow == GROWTH_INTERVAL) {
            scale *= 2;
            sinceOverflow = 0;
        }
    }

    /** The scaler's state as checkpoint entries (none in fp32). */
    Map<String, String> state() {
        return fp16 ? Map.of(SCALE, Double.toString(scale), GROWTH_TRACKER, Integer.toString(sinceOverflow))
                : Map.of();
    }

    /** Takes the scaler's state from a checkpoint's entries; a checkpoint of an fp32 run starts the scale afresh. */
    void restore(Map<String, String> entries, String source) {
        if (!fp16 || !entries.containsKey(SCALE)) {
            return;
        }
        try {
            scale = Double.parseDouble(entries.get(SCALE));
            sinceOverflow = Integer.parseInt(entries.getOrDefault(GROWTH_TRACKER, "0"));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(source + ": " + SCALE + " '" + entries.get(SCALE)
                    + "' is not a number");
        }
        if (!(scale > 0) || Double.isInfinite(scale)) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%s: loss scale %s is not a positive number",
                    source, entries.get(SCALE)));
        }
    }
}
