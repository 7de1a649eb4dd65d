package siameseim.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import siameseim.config.PretrainConfig;
import siameseim.model.nn.CrossReplicaMean;
import siameseim.model.optim.GradientReducer;
import siameseim.batch.SiameseBatch;

/**
 * Times the full training step (target forward, online forward, loss, backward, clipping, AdamW,
 * EMA) on one replica with pre-built batches, so only the model is measured: median over
 * {@code steps} after {@code warmup} steps.
 */
public final class StepBenchmark {
    private StepBenchmark() {}

    /** Median and spread of the measured steps. */
    public record Result(String name, int batch, double medianMs, double minMs, double maxMs, double imagesPerSecond,
            double gflopPerImage, double gflopPerSecond) {
        public String line() {
            return String.format(java.util.Locale.ROOT,
                    "%-28s batch %4d  %8.1f ms/step (min %.1f, max %.1f)  %7.1f images/s  %6.3f GFLOP/image  %6.1f GFLOP/s",
                    name, batch, medianMs, minMs, maxMs, imagesPerSecond, gflopPerImage, gflopPerSecond);
        }
    }

    public static Result run(String name, PretrainConfig cfg, int warmup, int steps) {
        return run(name, cfg, warmup, steps, null);
    }

    /** As above on {@code device} (null: the engine's default), in the precision train.precision gives there. */
    public static Result run(String name, PretrainConfig cfg, int warmup, int steps, ai.djl.Device device) {
        return run(name, cfg, warmup, steps, device, PrecisionCheck.choose(cfg, device).precision());
    }

    /** As above in {@code precision}. */
    public static Result run(String name, PretrainConfig cfg, int warmup, int steps, ai.djl.Device device,
            MixedPrecision precision) {
        int batch = cfg.optim().batchSize();
        List<SiameseBatch> batches = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            batches.add(SyntheticBatches.batch(cfg, batch, 1000 + i));
        }
        double[] ms = new double[steps];
        try (Pretrainer t = new Pretrainer(cfg, 1000, GradientReducer.IDENTITY, CrossReplicaMean.SINGLE, device,
                precision)) {
            for (int i = 0; i < warmup + steps; i++) {
                long t0 = System.nanoTime();
                t.step(List.of(batches.get(i % batches.size())));
                double d = (System.nanoTime() - t0) / 1e6;
                if (i >= warmup) {
                    ms[i - warmup] = d;
                }
            }
        }
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        double median = sorted[steps / 2];
        double flops = FlopCount.perImage(cfg.model(), cfg.mask()) / 1e9;
        double ips = batch / (median / 1000);
        return new Result(precision.isFp16() ? name + " fp16-mixed" : name, batch, median, sorted[0], sorted[steps - 1],
                ips, flops, flops * ips);
    }

    /** Median GFLOP/s of a 1024 x 1024 x 1024 float matrix product. */
    public static double sgemmGflops() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.randomNormal(new Shape(1024, 1024));
            NDArray y = m.randomNormal(new Shape(1024, 1024));
            double[] t = new double[12];
            for (int i = 0; i < t.length; i++) {
                long s = System.nanoTime();
                try (NDArray z = x.matMul(y)) {
                    z.getFloat(0, 0);
                }
                t[i] = (System.nanoTime() - s) / 1e9;
            }
            double[] tail = Arrays.copyOfRange(t, 2, t.length);
            Arrays.sort(tail);
            return 2.0 * 1024 * 1024 * 1024 / tail[tail.length / 2] / 1e9;
        }
    }
}
