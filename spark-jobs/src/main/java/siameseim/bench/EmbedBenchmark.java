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
 * ViT-Tiny/16 and ViT-B/16 at 224 px. With the next batch decoded while the encoder runs (what the
 * jobs do) and without; each the best of 2 runs of 4 batches after a warm-up batch, the two modes
 * alternating; numbers only.
 */
public final class EmbedBenchmark {
    private static final int BATCHES = 4;
    private static final int ROUNDS = 2;

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
            for (int round = 0; round < 2 * ROUNDS; round++) { // alternating, so that both see the same load
                int mode = round % 2;
                loop(fx, tf, batch, m, mode == 1, jpegs, dec, 1); // warm-up
                long s = System.nanoTime();
                loop(fx, tf, batch, m, mode == 1, jpegs, dec, BATCHES);
                perSecond[mode] = Math.max(perSecond[mode], BATCHES * batch / ((System.nanoTime() - s) / 1e9));
            }
            double gflops = perSecond[1] * FlopCount.encoderForward(cfg.model()) / 1e9;
            return String.format(Locale.ROOT, "embed %-20s batch %2d: %7.1f images/s (decode + transform + forward;"
                    + " %.1f with decoding not overlapped), %.1f GFLOP/s = %.0f%% of SGEMM", name, batch,
                    perSecond[1], perSecond[0], gflops, 100 * gflops / sgemm);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code batches} batches through the embedding loop, the next batch's JPEGs decoded while the encoder runs (overlap). */
    private static void loop(FeatureExtractor fx, EvalTransform tf, int batch, NDManager m, boolean overlap,
            List<byte[]> jpegs, ImageDecoder dec, int batches) throws java.io.IOException {
        long[] embedded = {0};
        try (EmbeddingBatches<Integer> b = new EmbeddingBatches<>(fx, tf, batch, m, overlap, (i, f) -> embedded[0]++)) {
            for (int i = 0; i < batches * batch; i++) {
                try {
                    b.add(i, dec.decode(jpegs.get(i % jpegs.size()), Long.MAX_VALUE).image());
                } catch (siameseim.datasets.decode.BadImageException e) {
                    throw new IllegalStateException(e);
                }
            }
            b.finish();
        }
        if (embedded[0] != (long) batches * batch) {
            throw new IllegalStateException("embedded " + embedded[0] + " of " + batches * batch);
        }
    }
}
