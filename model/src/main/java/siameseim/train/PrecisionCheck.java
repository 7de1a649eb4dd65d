package siameseim.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Locale;
import siameseim.config.PretrainConfig;
import siameseim.model.nn.CrossReplicaMean;
import siameseim.model.optim.GradientReducer;
import siameseim.model.siameseim.SiameseInputs;

/**
 * What train.precision means on one replica's device. {@code fp32} and {@code fp16-mixed} are
 * taken as asked; {@code auto} is fp32 on a CPU, and on a GPU fp16-mixed only once a check on
 * that device passed: autocast is really on (a linear's output is FLOAT16), and one synthetic
 * batch of the run's model, from the same initial weights, gives a loss within
 * {@value #LOSS_TOLERANCE} and a gradient norm within {@value #NORM_TOLERANCE} (relative) of
 * fp32's. Otherwise the replica stays in fp32 and the outcome says why.
 */
public final class PrecisionCheck {
    /** fp16 products keep about three decimal digits; the loss sums thousands of them. */
    static final double LOSS_TOLERANCE = 1e-2;
    static final double NORM_TOLERANCE = 5e-2;
    private static final int BATCH = 8;

    private PrecisionCheck() {}

    /** The precision chosen, and a line saying why (for the console and the doctor). */
    public record Choice(MixedPrecision precision, String note) {}

    /** One step's loss and gradient norm in one precision, and how long its forward and backward took. */
    public record Probe(double loss, double gradNorm, double millis) {}

    public static Choice choose(PretrainConfig cfg, Device device) {
        return switch (cfg.train().precision()) {
            case FP32 -> new Choice(MixedPrecision.fp32(), "precision fp32 (train.precision = fp32)");
            case FP16_MIXED -> new Choice(MixedPrecision.fp16(device), "precision fp16-mixed (train.precision ="
                    + " fp16-mixed" + (device == null || !device.isGpu() ? "; a CPU has no fp16 units: slower than fp32"
                            : "") + ")");
            case AUTO -> device == null || !device.isGpu()
                    ? new Choice(MixedPrecision.fp32(), "precision fp32 (train.precision = auto on a CPU)")
                    : check(cfg, device);
        };
    }

    /**
     * The precision of feature extraction (eval.precision): as asked, and {@code auto} is
     * fp16-mixed on a GPU where autocast is on (a linear's output is FLOAT16), else fp32.
     */
    public static MixedPrecision forInference(PretrainConfig.Precision asked, Device device) {
        return switch (asked) {
            case FP32 -> MixedPrecision.fp32();
            case FP16_MIXED -> MixedPrecision.fp16(device);
            case AUTO -> device != null && device.isGpu() && linearOutputType(device) == DataType.FLOAT16
                    ? MixedPrecision.fp16(device) : MixedPrecision.fp32();
        };
    }

    /** The check {@code auto} runs on a GPU; also what the doctor reports. */
    public static Choice check(PretrainConfig cfg, Device device) {
        String where = "train.precision = auto on " + device;
        try {
            DataType out = linearOutputType(device);
            if (out != DataType.FLOAT16) {
                return new Choice(MixedPrecision.fp32(), "precision fp32 (" + where + ": autocast is off there, a"
                        + " linear layer returned " + out + ")");
            }
            Probe full = probe(cfg, device, MixedPrecision.fp32());
            Probe half = probe(cfg, device, MixedPrecision.fp16(device));
            double dl = relative(half.loss(), full.loss());
            double dn = relative(half.gradNorm(), full.gradNorm());
            String figures = String.format(Locale.ROOT, "loss %.5f vs %.5f fp32, gradient norm %.4g vs %.4g, forward"
                    + " and backward %.0f vs %.0f ms", half.loss(), full.loss(), half.gradNorm(), full.gradNorm(),
                    half.millis(), full.millis());
            if (!(dl <= LOSS_TOLERANCE && dn <= NORM_TOLERANCE)) {
                return new Choice(MixedPrecision.fp32(), "precision fp32 (" + where + ": the fp16-mixed check failed: "
                        + figures + ")");
            }
            return new Choice(MixedPrecision.fp16(device), "precision fp16-mixed (" + where + ": check passed: "
                    + figures + ")");
        } catch (RuntimeException e) {
            return new Choice(MixedPrecision.fp32(), "precision fp32 (" + where + ": the fp16-mixed check failed: "
                    + e.getMessage() + ")");
        }
    }

    /** The data type of a linear layer's output with autocast on for {@code device}. */
    static DataType linearOutputType(Device device) {
        try (NDManager m = NDManager.newBaseManager(device)) {
            NDArray x = m.ones(new Shape(2, 8));
            NDArray w = m.ones(new Shape(4, 8));
            return MixedPrecision.fp16(device).forward(() -> x.getNDArrayInternal().linear(x, w, null)
                    .singletonOrThrow().getDataType());
        }
    }

    /** One forward and backward of a fresh trainer of the run's model (seed train.seed) on a synthetic batch. */
    public static Probe probe(PretrainConfig cfg, Device device, MixedPrecision precision) {
        try (Pretrainer t = new Pretrainer(cfg, 1, GradientReducer.IDENTITY, CrossReplicaMean.SINGLE, device,
                precision); NDManager m = NDManager.newBaseManager(device)) {
            long t0 = System.nanoTime();
            float loss = t.forwardBackward(SiameseInputs.of(SyntheticBatches.batch(cfg, BATCH, cfg.train().seed()), m),
                    1f).loss().loss().toType(DataType.FLOAT32, false).getFloat();
            double millis = (System.nanoTime() - t0) / 1e6;
            return new Probe(loss, t.optimizer().gradNorm() / precision.lossScale(), millis);
        }
    }

    private static double relative(double a, double b) {
        return Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
    }
}
