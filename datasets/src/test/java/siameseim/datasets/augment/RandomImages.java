package siameseim.datasets.augment;

import java.util.SplittableRandom;
import siameseim.datasets.image.RgbImage;

/** Test images of uniformly random 8-bit values. */
final class RandomImages {
    private RandomImages() {}

    static RgbImage of(int width, int height, SplittableRandom rng) {
        RgbImage img = new RgbImage(width, height);
        float[] d = img.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = rng.nextInt(256);
        }
        return img;
    }
}
