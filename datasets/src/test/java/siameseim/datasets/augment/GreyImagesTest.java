package siameseim.datasets.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import siameseim.config.ConfigLoader;
import siameseim.config.PretrainConfig;
import siameseim.datasets.image.RgbImage;

/** Grey images go through the augmentation as one plane and give the three-plane result's bits. */
class GreyImagesTest {
    private static final PretrainConfig CFG = ConfigLoader.loadPretrain("pretrain-demo.conf", List.of());

    /** A grey image of random 8-bit values. */
    private static RgbImage grey(int w, int h, SplittableRandom rng) {
        float[] d = new float[w * h];
        for (int i = 0; i < d.length; i++) {
            d[i] = rng.nextInt(256);
        }
        return RgbImage.grey(w, h, d);
    }

    @Test
    void onlyImagesWithThreeEqualPlanesBecomeGrey() {
        SplittableRandom rng = new SplittableRandom(1);
        RgbImage g = grey(9, 7, rng);
        RgbImage three = g.rgb();
        assertFalse(three.isGrey());
        assertEquals(3 * 63, three.data().length);
        RgbImage back = three.greyIfNeutral();
        assertTrue(back.isGrey());
        assertArrayEquals(g.data(), back.data());
        assertSame(g, g.greyIfNeutral());
        assertEquals(three.get(2, 6, 8), g.get(2, 6, 8));
        assertArrayEquals(three.toPacked(), g.toPacked());

        // one blue value off in the last pixel keeps all three planes
        three.set(2, 6, 8, (three.get(2, 6, 8) + 1) % 256);
        assertSame(three, three.greyIfNeutral());
        RgbImage colour = RandomImages.of(9, 7, rng);
        assertSame(colour, colour.greyIfNeutral());
        assertThrows(IllegalArgumentException.class, () -> g.set(1, 0, 0, 5));
    }

    @Test
    void everyOperationGivesTheThreePlaneResultInOnePlane() {
        SplittableRandom rng = new SplittableRandom(2);
        CropBox box = new CropBox(3, 5, 30, 41);
        List<UnaryOperator<RgbImage>> ops = List.of(
                i -> { ColorOps.brightness(i, 1.37); return i; },
                i -> { ColorOps.contrast(i, 0.61); return i; },
                i -> { ColorOps.contrast(i, 1.4); return i; },
                i -> { ColorOps.saturation(i, 0.3); return i; },
                i -> { ColorOps.saturation(i, 1.6); return i; },
                i -> { ColorOps.hue(i, 0.23); return i; },
                i -> { ColorOps.grayscale(i); return i; },
                i -> { ColorOps.solarize(i); return i; },
                i -> { ColorOps.gaussianBlur(i, 1.3); return i; },
                i -> Resampler.resize(i, box, 32, 32, Resampler.Filter.BICUBIC),
                i -> Resampler.resizeMirrored(i, box, 24, 20, Resampler.Filter.BILINEAR),
                i -> Resampler.resize(i, box, 80, 64, Resampler.Filter.BICUBIC),
                RgbImage::flipHorizontal,
                RgbImage::copy);
        for (int k = 0; k < ops.size(); k++) {
            RgbImage g = grey(50, 47, rng);
            RgbImage three = g.rgb();
            RgbImage g2 = ops.get(k).apply(g);
            RgbImage three2 = ops.get(k).apply(three);
            assertTrue(g2.isGrey(), "operation " + k);
            assertArrayEquals(three2.data(), g2.rgb().data(), "operation " + k);
        }
        RgbImage g = grey(32, 32, rng);
        float[] a = new float[3 * 1024 + 5];
        float[] b = new float[3 * 1024 + 5];
        ColorOps.normalizeInto(g, CFG.augment().mean(), CFG.augment().std(), a, 5);
        ColorOps.normalizeInto(g.rgb(), CFG.augment().mean(), CFG.augment().std(), b, 5);
        assertArrayEquals(b, a);
    }

    @Test
    void twoViewSamplesAreTheSameBitsForOneAndThreePlanes() {
        TwoViewAugmenter aug = new TwoViewAugmenter(CFG);
        SplittableRandom images = new SplittableRandom(3);
        for (int i = 0; i < 300; i++) {
            // the demo's 48 px images, and others that are cropped, stretched and downscaled
            RgbImage three = grey(i % 3 == 0 ? 48 : 40 + images.nextInt(60), i % 3 == 0 ? 48 : 30 + images.nextInt(60),
                    images).rgb();
            TwoViewAugmenter.Sample one = aug.apply(three, new SplittableRandom(i));
            TwoViewAugmenter.Sample all = aug.applyPlanes(three, new SplittableRandom(i));
            assertArrayEquals(all.view1(), one.view1(), "image " + i);
            assertArrayEquals(all.view2(), one.view2(), "image " + i);
            assertArrayEquals(all.visible(), one.visible(), "image " + i);
            assertEquals(all.geometry(), one.geometry(), "image " + i);
        }
    }
}
