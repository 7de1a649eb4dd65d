package siameseim.datasets.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import siameseim.datasets.image.RgbImage;

class ResamplerTest {

    @Test
    void constantImageStaysConstantUpAndDown() {
        RgbImage img = new RgbImage(40, 30);
        java.util.Arrays.fill(img.data(), 77f);
        for (int size : new int[] {8, 32, 97}) {
            RgbImage out = Resampler.resize(img, new CropBox(3, 5, 20, 30), size, size, Resampler.Filter.BICUBIC);
            for (float v : out.data()) {
                assertEquals(77f, v);
            }
        }
    }

    @Test
    void identitySizeCopiesTheCrop() {
        RgbImage img = new RgbImage(16, 16);
        for (int i = 0; i < img.data().length; i++) {
            img.data()[i] = i % 251;
        }
        RgbImage out = Resampler.resize(img, new CropBox(4, 2, 8, 8), 8, 8, Resampler.Filter.BICUBIC);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 8; y++) {
                for (int x = 0; x < 8; x++) {
                    assertEquals(img.get(c, y + 4, x + 2), out.get(c, y, x));
                }
            }
        }
    }

    @Test
    void downscalingAveragesAStripePattern() {
        // 1-pixel stripes 0/200 shrunk 4x: the antialiased kernel averages them to ~100
        RgbImage img = new RgbImage(64, 64);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 64; y++) {
                for (int x = 0; x < 64; x++) {
                    img.set(c, y, x, x % 2 == 0 ? 0 : 200);
                }
            }
        }
        RgbImage out = Resampler.resize(img, new CropBox(0, 0, 64, 64), 16, 16, Resampler.Filter.BICUBIC);
        assertEquals(100f, out.get(0, 8, 8), 2f);
    }
}
