package siameseim.datasets.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import siameseim.datasets.image.RgbImage;

class ColorOpsTest {

    private static RgbImage pixel(int r, int g, int b) {
        return new RgbImage(1, 1, new float[] {r, g, b});
    }

    @Test
    void lumaIsPilsIntegerFormula() {
        RgbImage p = pixel(255, 0, 0);
        ColorOps.grayscale(p);
        assertEquals(76f, p.get(0, 0, 0)); // (255 * 19595 + 32768) >> 16
        RgbImage q = pixel(10, 200, 30);
        ColorOps.grayscale(q);
        assertEquals(124f, q.get(1, 0, 0)); // (10 * 19595 + 200 * 38470 + 30 * 7471 + 32768) >> 16
    }

    @Test
    void solarizeFlipsFrom128() {
        RgbImage p = pixel(127, 128, 255);
        ColorOps.solarize(p);
        assertEquals(127f, p.get(0, 0, 0));
        assertEquals(127f, p.get(1, 0, 0));
        assertEquals(0f, p.get(2, 0, 0));
    }

    @Test
    void hueShiftByAThirdRotatesPrimaries() {
        RgbImage p = pixel(255, 0, 0);
        ColorOps.hue(p, 1.0 / 3);
        assertEquals(0f, p.get(0, 0, 0));
        assertEquals(255f, p.get(1, 0, 0));
        assertEquals(0f, p.get(2, 0, 0));
        RgbImage q = pixel(10, 200, 30);
        ColorOps.hue(q, 0);
        assertEquals(10f, q.get(0, 0, 0));
        assertEquals(200f, q.get(1, 0, 0));
        assertEquals(30f, q.get(2, 0, 0));
    }

    @Test
    void saturationZeroIsGrayAndBrightnessScales() {
        RgbImage p = pixel(10, 200, 30);
        ColorOps.saturation(p, 0);
        assertEquals(p.get(0, 0, 0), p.get(1, 0, 0));
        RgbImage q = pixel(100, 200, 250);
        ColorOps.brightness(q, 1.2);
        assertEquals(120f, q.get(0, 0, 0));
        assertEquals(240f, q.get(1, 0, 0));
        assertEquals(255f, q.get(2, 0, 0));
    }

    @Test
    void blurPreservesAConstantAndSmoothsAStep() {
        RgbImage img = new RgbImage(21, 5);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 5; y++) {
                for (int x = 0; x < 21; x++) {
                    img.set(c, y, x, x < 10 ? 0 : 200);
                }
            }
        }
        ColorOps.gaussianBlur(img, 1.5);
        assertEquals(0f, img.get(0, 2, 0));
        assertEquals(200f, img.get(0, 2, 20));
        float mid = img.get(0, 2, 10);
        assertEquals(true, mid > 60 && mid < 160, "step at x = 10 smoothed, got " + mid);
    }

    @Test
    void hueMatchesTheTextbookHsvRotationWithinOneLevel() {
        SplittableRandom rng = new SplittableRandom(11);
        int values = 0;
        int off = 0;
        for (int it = 0; it < 300; it++) {
            RgbImage img = new RgbImage(16, 16);
            float[] d = img.data();
            for (int i = 0; i < d.length; i++) {
                d[i] = rng.nextInt(4) == 0 && i >= 256 ? d[i - 256] : rng.nextInt(256);
            }
            double shift = rng.nextDouble() - 0.5;
            RgbImage fast = img.copy();
            ColorOps.hue(fast, shift);
            for (int i = 0; i < 256; i++) {
                float[] want = textbookHue(d[i], d[256 + i], d[512 + i], shift);
                for (int c = 0; c < 3; c++) {
                    float got = fast.data()[c * 256 + i];
                    assertEquals(want[c], got, 1f, "pixel " + i + " channel " + c + " shift " + shift);
                    values++;
                    off += got == want[c] ? 0 : 1;
                }
            }
        }
        assertTrue(off < values / 1000, off + " of " + values + " values one level off");
    }

    /** RGB -> HSV -> rotate -> RGB in doubles on the unit scale (Python's colorsys). */
    private static float[] textbookHue(double r8, double g8, double b8, double shift) {
        double r = r8 / 255;
        double g = g8 / 255;
        double b = b8 / 255;
        double v = Math.max(r, Math.max(g, b));
        double delta = v - Math.min(r, Math.min(g, b));
        double s = v == 0 ? 0 : delta / v;
        double h = delta == 0 ? 0 : v == r ? (g - b) / delta / 6 : v == g ? ((b - r) / delta + 2) / 6
                : ((r - g) / delta + 4) / 6;
        h = h + shift - Math.floor(h + shift);
        int i = (int) Math.floor(h * 6) % 6;
        double f = h * 6 - Math.floor(h * 6);
        double p = v * (1 - s);
        double q = v * (1 - s * f);
        double t = v * (1 - s * (1 - f));
        double[][] rgb = {{v, t, p}, {q, v, p}, {p, v, t}, {p, q, v}, {t, p, v}, {v, p, q}};
        float[] out = new float[3];
        for (int c = 0; c < 3; c++) {
            out[c] = RgbImage.clampRound((float) (rgb[i][c] * 255));
        }
        return out;
    }

    @Test
    void blurIsTheDirectKernelSumWithEdgePixelsRepeated() {
        SplittableRandom rng = new SplittableRandom(12);
        for (int it = 0; it < 200; it++) {
            int w = 1 + rng.nextInt(20);
            int h = 1 + rng.nextInt(20);
            double sigma = 0.05 + 2 * rng.nextDouble();
            RgbImage img = RandomImages.of(w, h, rng);
            RgbImage fast = img.copy();
            ColorOps.gaussianBlur(fast, sigma);
            int radius = Math.max(1, (int) Math.ceil(3 * sigma));
            double[] k = new double[2 * radius + 1];
            double total = 0;
            for (int i = -radius; i <= radius; i++) {
                k[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
                total += k[i + radius];
            }
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        double acc = 0;
                        for (int dy = -radius; dy <= radius; dy++) {
                            for (int dx = -radius; dx <= radius; dx++) {
                                int yy = Math.min(h - 1, Math.max(0, y + dy));
                                int xx = Math.min(w - 1, Math.max(0, x + dx));
                                acc += k[dy + radius] * k[dx + radius] / (total * total) * img.get(c, yy, xx);
                            }
                        }
                        // float sums in the fast path: equal up to the rounding of a .5 boundary
                        assertEquals(RgbImage.clampRound((float) acc), fast.get(c, y, x), 1f);
                    }
                }
            }
        }
    }
}
