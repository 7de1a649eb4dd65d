package siameseim.datasets.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import siameseim.datasets.image.RgbImage;

class FinetuneAugmentTest {

    static RgbImage gradient(int w, int h) {
        RgbImage img = new RgbImage(w, h);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    img.set(c, y, x, (x * 7 + y * 3 + c * 40) % 256);
                }
            }
        }
        return img;
    }

    @Test
    void pointOperationsFollowPil() {
        RgbImage img = gradient(8, 8);
        RgbImage inv = RandAugment.apply(RandAugment.Op.INVERT, img, 0.9, false);
        assertEquals(255 - img.get(1, 2, 3), inv.get(1, 2, 3));
        // level 0.5: posterize keeps 4 - 2 = 2 bits; level 1.0: solarize threshold 0 inverts everything
        RgbImage post = RandAugment.apply(RandAugment.Op.POSTERIZE, img, 0.5, false);
        assertEquals(((int) img.get(0, 5, 5)) & 0xC0, (int) post.get(0, 5, 5));
        RgbImage sol = RandAugment.apply(RandAugment.Op.SOLARIZE, img, 1.0, false);
        assertEquals(255 - img.get(2, 1, 1), sol.get(2, 1, 1));
        RgbImage auto = RandAugment.apply(RandAugment.Op.AUTO_CONTRAST, img, 0.5, false);
        float lo = 255;
        float hi = 0;
        for (float v : auto.data()) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        assertEquals(0f, lo);
        assertEquals(255f, hi);
    }

    @Test
    void translationShiftsAndFillsWithTheMean() {
        RgbImage img = gradient(20, 10);
        // level 1/0.9 of 0.45 width = 9 px... use level m with m * 0.45 * 20 = 4.5 -> here m = 0.5
        RgbImage t = RandAugment.apply(RandAugment.Op.TRANSLATE_X, img, 0.5, false);
        // output x samples input x + 4.5: pixel 5 sits between input 9 and 10
        assertEquals((img.get(0, 3, 9) + img.get(0, 3, 10)) / 2, t.get(0, 3, 5), 1.0);
        assertEquals(RandAugment.FILL[1], t.get(1, 3, 19));
        RgbImage same = RandAugment.apply(RandAugment.Op.ROTATE, img, 0, false);
        assertEquals(img.get(0, 4, 4), same.get(0, 4, 4), 0.5, "rotation by 0 degrees");
    }

    @Test
    void mixupTargetsAreSmoothedMixedAndSumToOne() {
        Mixup mix = new Mixup(0.8, 1.0, 1.0, 0.5, 0.1, 4);
        SplittableRandom rng = new SplittableRandom(1);
        int b = 6;
        int size = 8;
        for (int trial = 0; trial < 20; trial++) {
            float[] images = new float[b * 3 * size * size];
            for (int i = 0; i < b; i++) {
                java.util.Arrays.fill(images, i * 3 * size * size, (i + 1) * 3 * size * size, i);
            }
            int[] labels = {0, 1, 2, 3, 0, 1};
            float[] t = mix.apply(images, labels, size, rng);
            for (int i = 0; i < b; i++) {
                float sum = 0;
                for (int c = 0; c < 4; c++) {
                    sum += t[i * 4 + c];
                    assertTrue(t[i * 4 + c] >= 0.1f / 4 - 1e-6f);
                }
                assertEquals(1f, sum, 1e-5f);
                // the image is the same mix: its mean value equals lam * i + (1 - lam) * (b - 1 - i)
                double mean = 0;
                for (int p = 0; p < 3 * size * size; p++) {
                    mean += images[i * 3 * size * size + p];
                }
                mean /= 3 * size * size;
                int j = b - 1 - i;
                if (labels[i] != labels[j]) {
                    double on = 1 - 0.1 + 0.1 / 4;
                    double off = 0.1 / 4;
                    double lam = (t[i * 4 + labels[i]] - off) / (on - off);
                    assertEquals(lam * i + (1 - lam) * j, mean, 1e-3);
                }
            }
        }
    }

    @Test
    void betaSamplesHaveTheRightMean() {
        SplittableRandom rng = new SplittableRandom(2);
        double s = 0;
        for (int i = 0; i < 20000; i++) {
            double v = Mixup.beta(0.8, rng);
            assertTrue(v >= 0 && v <= 1);
            s += v;
        }
        assertEquals(0.5, s / 20000, 0.01);
    }

    @Test
    void randomErasingOverwritesOneBox() {
        float[] x = new float[3 * 16 * 16];
        FinetuneTransform.erase(x, 0, 16, new SplittableRandom(4));
        int changed = 0;
        for (float v : x) {
            if (v != 0) {
                changed++;
            }
        }
        assertTrue(changed >= 3 * 256 * 0.02 * 0.8 && changed <= 3 * 256 / 3 + 48, "changed " + changed);
    }
}
