package siameseim.bench;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import siameseim.config.ConfigLoader;
import siameseim.config.FeaturePool;
import siameseim.config.PretrainConfig;
import siameseim.datasets.augment.EvalTransform;
import siameseim.datasets.augment.Resampler;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.image.RgbImage;
import siameseim.eval.FeatureExtractor;
import siameseim.ml.EmbeddingBatches;
import siameseim.model.nn.Torch;
import siameseim.model.vit.VisionTransformer;
import siameseim.train.FlopCount;

/**
 * Embeddings per second of the loop {@code embed}, the {@code ImageEmbedder} and the evaluations run
 * ({@link EmbeddingBatches}): decode a JPEG, evaluation transform, encoder forward without autograd,
 * pooling; in batches, on one JVM with {@code threads} intra-op threads, for the demo encoder,
 * ViT-Tiny/16 and ViT-B/16 at 224 px. With the next batch decoded while the encoder runs and
 * without, each the best of 2 runs of 4 batches after a warm-up batch, and what the jobs run
 * ({@code Overlap.AUTO}: 7 batches that measure both ways, then 4 timed batches the faster way),
 * the best of 2 runs too; the three take turns, so that all see the same load. Numbers only.
 */
public final class EmbedBenchmark {
    private static final int BATCHES = 4;
    private static final int ROUNDS = 2;
    /** Batches the jobs' loop (Overlap.AUTO) measures before it chooses: a warm-up, then 3 each way. */
    private static final int AUTO_PROBE = 7;

    private EmbedBenchmark() {}

    public static void run(int threads, Consumer<String> out) {
        Torch.init(threads);
        double sgemm = siameseim.train.StepBenchmark.sgemmGflops();
        out.accept(String.format(Locale.ROOT, "SGEMM 1024^3 with %d threads: %.1f GFLOP/s", threads, sgemm));
        List<String[]> models = List.of(
                new String[] {"demo encoder 32 px", "pretrain-demo.conf"},
                new String[] {"ViT-Tiny/16 224 px", null, "model.encoder.width=192", "model.encoder.heads=3"},
                new String[] {"ViT-B/16 224 px", "pretrain-vit-b16.conf"});
        for (String[] m : models) {
            PretrainConfig cfg = ConfigLoader.loadPretrain(m[1], Arrays.asList(m).subList(2, m.length));
            int batch = cfg.model().encoder().width() >= 768 ? 16 : 32;
            out.accept(one(m[0], cfg, batch, sgemm));
        }
    }

    private static String one(String name, PretrainConfig cfg, int batch, double sgemm) {
        ImageDecoder dec = ImageDecoder.named("opencv");
        SplittableRandom rng = new SplittableRandom(1);
        List<byte[]> jpegs = new ArrayList<>();
        for (int i = 0; i < batch; i++) { // photo-sized inputs, resized by the transform as in embed
            int w = 500;
            int h = 375;
            float[] px = new float[3 * w * h];
            for (int j = 0; j < px.length; j++) {
                px[j] = (float) (128 + 60 * Math.sin(j * 0.001 * (1 + i)) + rng.nextInt(32));
            }
            jpegs.add(dec.encodeJpeg(new RgbImage(w, h, px), 90));
        }
        int size = cfg.model().imageSize();
        EvalTransform tf = new EvalTransform(size, Resampler.Filter.BICUBIC, cfg.augment().mean(), cfg.augment().std());
        try (NDManager m = NDManager.newBaseManager()) {
            VisionTransformer enc = new VisionTransformer(m, new SplittableRandom(0), cfg.model(), "", null);
            enc.setTrainable(false);
            FeatureExtractor fx = new FeatureExtractor(enc, FeaturePool.MEAN_PATCH);
            double[] perSecond = new double[2]; // sequential, overlapped
            Run auto = null;
            for (int round = 0; round < ROUNDS; round++) { // the three ways in turn, so that all see the same load
                for (int mode = 0; mode < 2; mode++) {
                    EmbeddingBatches.Overlap overlap = mode == 1 ? EmbeddingBatches.Overlap.ON
                            : EmbeddingBatches.Overlap.OFF;
                    loop(fx, tf, batch, m, overlap, jpegs, dec, 1, 0); // warm-up
                    Run r = loop(fx, tf, batch, m, overlap, jpegs, dec, BATCHES, 0);
                    perSecond[mode] = Math.max(perSecond[mode], r.imagesPerSecond());
                }
                // what the jobs run: the first batches measure each way, the rest (timed) run the faster
                Run a = loop(fx, tf, batch, m, EmbeddingBatches.Overlap.AUTO, jpegs, dec, AUTO_PROBE + BATCHES,
                        AUTO_PROBE);
                if (auto == null || a.imagesPerSecond() > auto.imagesPerSecond()) {
                    auto = a;
                }
            }
            double gflops = auto.imagesPerSecond() * FlopCount.encoderForward(cfg.model()) / 1e9;
            return String.format(Locale.ROOT, "embed %-20s batch %2d: %7.1f images/s (decode + transform + forward)"
                    + " overlapped, %.1f sequential; the jobs' choice: %s, %.1f images/s, %.1f GFLOP/s = %.0f%% of"
                    + " SGEMM", name, batch, perSecond[1], perSecond[0], auto.report(), auto.imagesPerSecond(),
                    gflops, 100 * gflops / sgemm);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The images per second of the timed batches, and how the loop ran them. */
    private record Run(double imagesPerSecond, String report) {}

    /**
     * {@code batches} batches through the embedding loop, the next batch's JPEGs decoded while the encoder runs
     * or not ({@code overlap}); batches from {@code timedFrom} on are timed.
     */
    private static Run loop(FeatureExtractor fx, EvalTransform tf, int batch, NDManager m,
            EmbeddingBatches.Overlap overlap, List<byte[]> jpegs, ImageDecoder dec, int batches, int timedFrom)
            throws java.io.IOException {
        long[] embedded = {0};
        long start = System.nanoTime();
        String report;
        try (EmbeddingBatches<Integer> b = new EmbeddingBatches<>(fx, tf, batch, m, overlap, (i, f) -> embedded[0]++)) {
            for (int i = 0; i < batches * batch; i++) {
                if (i == timedFrom * batch) {
                    if (timedFrom > 0) {
                        b.drain(); // the last measuring batch may still run: it is not one of the timed ones
                    }
                    start = System.nanoTime();
                }
                try {
                    b.add(i, dec.decode(jpegs.get(i % jpegs.size()), Long.MAX_VALUE).image());
                } catch (siameseim.datasets.decode.BadImageException e) {
                    throw new IllegalStateException(e);
                }
            }
            b.finish();
            report = b.overlapReport();
        }
        if (embedded[0] != (long) batches * batch) {
            throw new IllegalStateException("embedded " + embedded[0] + " of " + batches * batch);
        }
        return new Run((batches - timedFrom) * batch / ((System.nanoTime() - start) / 1e9), report);
    }
}
