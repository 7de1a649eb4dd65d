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
import siameseim.model.nn.Torch;
import siameseim.model.vit.VisionTransformer;
import siameseim.train.FlopCount;

/**
 * Embeddings per second of the path {@code embed} and the {@code ImageEmbedder} run: decode a JPEG,
 * evaluation transform, encoder forward without autograd, pooling; in batches, on one JVM with
 * {@code threads} intra-op threads, for the demo encoder, ViT-Tiny/16 and ViT-B/16 at 224 px.
 * Median of 5 batches after one warm-up batch; numbers only.
 */
public final class EmbedBenchmark {
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
            float[] images = new float[batch * 3 * size * size];
            double[] t = new double[6];
            for (int rep = 0; rep < t.length; rep++) {
                long s = System.nanoTime();
                for (int i = 0; i < batch; i++) {
                    tf.apply(dec.decode(jpegs.get(i), Long.MAX_VALUE).image(), images, i * 3 * size * size);
                }
                fx.extract(images, batch, size, m);
                t[rep] = (System.nanoTime() - s) / 1e9;
            }
            double[] timed = Arrays.copyOfRange(t, 1, t.length);
            Arrays.sort(timed);
            double sec = timed[timed.length / 2];
            double perSecond = batch / sec;
            double gflops = perSecond * FlopCount.encoderForward(cfg.model()) / 1e9;
            return String.format(Locale.ROOT, "embed %-20s batch %2d: %7.1f images/s (decode + transform + forward),"
                    + " %.1f GFLOP/s = %.0f%% of SGEMM", name, batch, perSecond, gflops, 100 * gflops / sgemm);
        } catch (siameseim.datasets.decode.BadImageException e) {
            throw new IllegalStateException(e);
        }
    }
}
