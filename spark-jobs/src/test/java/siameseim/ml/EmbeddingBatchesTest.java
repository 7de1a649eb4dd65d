package siameseim.ml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import siameseim.config.ConfigLoader;
import siameseim.config.FeaturePool;
import siameseim.config.PretrainConfig;
import siameseim.datasets.augment.EvalTransform;
import siameseim.datasets.augment.Resampler;
import siameseim.datasets.image.RgbImage;
import siameseim.eval.FeatureExtractor;
import siameseim.model.nn.Torch;
import siameseim.model.vit.VisionTransformer;
import siameseim.testing.EvalFixture;

/**
 * The embedding loop, with the next batch decoded while the encoder runs, without, and choosing
 * between the two on its first batches (AUTO switches mid-stream): every item in order, null for
 * those without an image, and features identical to the encoder called on the same batches
 * directly.
 */
class EmbeddingBatchesTest {
    @Test
    void overlappedAndSequentialLoopsGiveTheEncodersFeaturesInOrder() throws Exception {
        Torch.init(1);
        PretrainConfig pc = ConfigLoader.loadPretrain(null, List.of(EvalFixture.UNIT));
        EvalTransform tf = new EvalTransform(16, Resampler.Filter.BICUBIC, pc.augment().mean(), pc.augment().std());
        SplittableRandom rng = new SplittableRandom(5);
        List<RgbImage> images = new ArrayList<>();
        for (int i = 0; i < 47; i++) { // items 2 and 7 have no image; 12 batches of 4, the last partial
            float[] px = new float[3 * 20 * 24];
            for (int j = 0; j < px.length; j++) {
                px[j] = rng.nextInt(256);
            }
            images.add(i == 2 || i == 7 ? null : new RgbImage(24, 20, px));
        }
        try (NDManager m = NDManager.newBaseManager()) {
            VisionTransformer enc = new VisionTransformer(m, new SplittableRandom(3), pc.model(), "", null);
            FeatureExtractor fx = new FeatureExtractor(enc, FeaturePool.CLS);
            // the 45 images in batches of 4 (the last of 1), straight through the encoder
            List<float[]> expect = new ArrayList<>();
            List<RgbImage> present = images.stream().filter(x -> x != null).toList();
            for (int s = 0; s < present.size(); s += 4) {
                int n = Math.min(4, present.size() - s);
                float[] x = new float[n * 3 * 16 * 16];
                for (int i = 0; i < n; i++) {
                    tf.apply(present.get(s + i), x, i * 3 * 16 * 16);
                }
                float[] f = fx.extract(x, n, 16, m);
                for (int i = 0; i < n; i++) {
                    expect.add(Arrays.copyOfRange(f, i * 32, (i + 1) * 32));
                }
            }
            for (EmbeddingBatches.Overlap overlap : EmbeddingBatches.Overlap.values()) {
                List<Integer> order = new ArrayList<>();
                List<float[]> got = new ArrayList<>();
                try (EmbeddingBatches<Integer> b = new EmbeddingBatches<>(fx, tf, 4, m, overlap, (i, f) -> {
                    order.add(i);
                    got.add(f);
                })) {
                    for (int i = 0; i < images.size(); i++) {
                        b.add(i, images.get(i));
                    }
                    b.finish();
                }
                assertEquals(java.util.stream.IntStream.range(0, images.size()).boxed().toList(), order,
                        "overlap " + overlap);
                int k = 0;
                for (int i = 0; i < got.size(); i++) {
                    if (images.get(i) == null) {
                        assertNull(got.get(i), "item " + i);
                    } else {
                        assertArrayEquals(expect.get(k++), got.get(i), "item " + i + ", overlap " + overlap);
                    }
                }
            }
        }
    }
}
