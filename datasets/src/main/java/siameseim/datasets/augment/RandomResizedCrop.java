package siameseim.datasets.augment;

import java.util.SplittableRandom;

/**
 * torchvision's RandomResizedCrop box sampler (spec 1.1 step 3): area fraction U(scale), aspect
 * log-uniform in ratio, up to 10 tries, then a central crop clamped to the ratio range.
 */
public final class RandomResizedCrop {
    private RandomResizedCrop() {}

    public static CropBox sample(int width, int height, double[] scale, double[] ratio, SplittableRandom rng) {
        double area = (double) width * height;
        double logLo = Math.log(ratio[0]);
        double logHi = Math.log(ratio[1]);
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * (scale[0] + (scale[1] - scale[0]) * rng.nextDouble());
            double aspect = Math.exp(logLo + (logHi - logLo) * rng.nextDouble());
            int w = (int) Math.rint(Math.sqrt(target * aspect));
            int h = (int) Math.rint(Math.sqrt(target / aspect));
            if (w > 0 && w <= width && h > 0 && h <= height) {
                int i = rng.nextInt(height - h + 1);
                int j = rng.nextInt(width - w + 1);
                return new CropBox(i, j, h, w);
            }
        }
        double inRatio = (double) width / height;
        int w;
        int h;
        if (inRatio < ratio[0]) {
            w = width;
            h = (int) Math.rint(w / ratio[0]);
        } else if (inRatio > ratio[1]) {
            h = height;
            w = (int) Math.rint(h * ratio[1]);
        } else {
            w = width;
            h = height;
        }
        return new CropBox((height - h) / 2, (width - w) / 2, h, w);
    }
}
