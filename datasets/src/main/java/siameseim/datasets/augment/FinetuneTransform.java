package siameseim.datasets.augment;

import java.util.SplittableRandom;
import siameseim.datasets.image.RgbImage;

/**
 * The fine-tuning training transform of spec 5.2 (timm's create_transform): RandomResizedCrop
 * (scale 0.08-1, bicubic), horizontal flip, RandAugment m9 mstd0.5, normalise, then random
 * erasing (p 0.25, one box of 2-33 % of the area, aspect 0.3-3.3, per-pixel N(0, 1) values).
 */
public final class FinetuneTransform {
    private final int size;
    private final double[] scale;
    private final double[] ratio;
    private final RandAugment randAugment;
    private final double eraseProbability;
    private final double[] mean;
    private final double[] std;

    public FinetuneTransform(int size, double[] scale, double[] ratio, RandAugment randAugment, double eraseProbability,
            double[] mean, double[] std) {
        this.size = size;
        this.scale = scale;
        this.ratio = ratio;
        this.randAugment = randAugment;
        this.eraseProbability = eraseProbability;
        this.mean = mean;
        this.std = std;
    }

    public int size() {
        return size;
    }

    /** Normalised CHW floats written at {@code offset}. */
    public void apply(RgbImage img, SplittableRandom rng, float[] out, int offset) {
        CropBox box = RandomResizedCrop.sample(img.width(), img.height(), scale, ratio, rng);
        // RandAugment's operations work on three planes
        RgbImage v = Resampler.resize(img, box, size, size, Resampler.Filter.BICUBIC).rgb();
        if (rng.nextBoolean()) {
            v = v.flipHorizontal();
        }
        v = randAugment.apply(v, rng);
        ColorOps.normalizeInto(v, mean, std, out, offset);
        if (rng.nextDouble() < eraseProbability) {
            erase(out, offset, size, rng);
        }
    }

    /** timm RandomErasing, mode "pixel", one box. */
    static void erase(float[] x, int offset, int size, SplittableRandom rng) {
        double area = (double) size * size;
        double logLo = Math.log(0.3);
        double logHi = Math.log(1 / 0.3);
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * (0.02 + rng.nextDouble() * (1 / 3.0 - 0.02));
            double aspect = Math.exp(logLo + rng.nextDouble() * (logHi - logLo));
            int h = (int) Math.rint(Math.sqrt(target * aspect));
            int w = (int) Math.rint(Math.sqrt(target / aspect));
            if (w < size && h < size) {
                int top = rng.nextInt(size - h + 1);
                int left = rng.nextInt(size - w + 1);
                for (int c = 0; c < 3; c++) {
                    for (int y = top; y < top + h; y++) {
                        for (int xx = left; xx < left + w; xx++) {
                            x[offset + (c * size + y) * size + xx] = (float) rng.nextGaussian();
                        }
                    }
                }
                return;
            }
        }
    }
}
