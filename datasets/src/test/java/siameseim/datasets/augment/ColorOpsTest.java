package siameseim.datasets.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
