package siameseim.datasets.augment;

import java.util.SplittableRandom;
import siameseim.config.AugmentConfig;
import siameseim.config.PretrainConfig;
import siameseim.datasets.image.RgbImage;

/**
 * SiameseIM's per-image pipeline (spec 1.1-1.3), in the reference's order: independent flips of
 * the whole image, independent RandomResizedCrops (bicubic), colour jitter (p 0.8, random op
 * order), grayscale (p 0.2), Gaussian blur (p 1.0 / 0.1), solarize (view 2, p 0.2), normalise;
 * then the relative geometry and the block mask of view 1.
 */
public final class TwoViewAugmenter {
    private final AugmentConfig cfg;
    private final int size;
    private final BlockMaskGenerator masks;

    /** One augmented sample: two normalised CHW views, the geometry, view 1's visible patches. */
    public record Sample(float[] view1, float[] view2, ViewGeometry geometry, int[] visible) {}

    public TwoViewAugmenter(PretrainConfig cfg) {
        this.cfg = cfg.augment();
        this.size = cfg.model().imageSize();
        this.masks = new BlockMaskGenerator(cfg.model().grid(), cfg.mask());
    }

    public int visibleCount() {
        return masks.visibleCount();
    }

    public int imageSize() {
        return size;
    }

    /**
     * The two views of {@code image}. A grey image (three equal planes, or {@link RgbImage#isGrey})
     * goes through the pipeline as one plane, which gives the same bits as three (see
     * {@link ColorOps}) for a third of the resampling and blur and none of the hue and saturation
     * work.
     */
    public Sample apply(RgbImage image, SplittableRandom rng) {
        return applyPlanes(image.greyIfNeutral(), rng);
    }

    /** {@link #apply} on the image's planes as they are (a test compares both forms). */
    Sample applyPlanes(RgbImage image, SplittableRandom rng) {
        boolean flip1 = rng.nextBoolean();
        boolean flip2 = rng.nextBoolean();
        CropBox box1 = RandomResizedCrop.sample(image.width(), image.height(), cfg.cropScale(), cfg.cropRatio(), rng);
        CropBox box2 = RandomResizedCrop.sample(image.width(), image.height(), cfg.cropScale(), cfg.cropRatio(), rng);
        // the flip comes first (reference order): the crop box is in the flipped image. Each view is
        // made, coloured and normalised before the next (resizing draws no random numbers, so the
        // draws keep the reference's order), so both use this thread's one scratch image.
        int n = 3 * size * size;
        float[] out1 = new float[n];
        float[] out2 = new float[n];
        RgbImage v1 = view(image, flip1, box1);
        colour(v1, 0, rng);
        ColorOps.normalizeInto(v1, cfg.mean(), cfg.std(), out1, 0);
        RgbImage v2 = view(image, flip2, box2);
        colour(v2, 1, rng);
        ColorOps.normalizeInto(v2, cfg.mean(), cfg.std(), out2, 0);
        ViewGeometry geo = ViewGeometry.of(box1, flip1, box2, flip2, image.width());
        int[] visible = BlockMaskGenerator.visible(masks.next(rng));
        return new Sample(out1, out2, geo, visible);
    }

    private RgbImage view(RgbImage image, boolean flip, CropBox box) {
        return Resampler.scratchView(image, flip, box, size, size, Resampler.Filter.BICUBIC);
    }

    /** Colour augmentation of view {@code v} (0 or 1), in place. */
    void colour(RgbImage img, int v, SplittableRandom rng) {
        if (rng.nextDouble() < cfg.colorJitterProbability()) {
            colorJitter(img, rng);
        }
        if (rng.nextDouble() < cfg.grayscaleProbability()) {
            ColorOps.grayscale(img);
        }
        if (rng.nextDouble() < cfg.blurProbability()[v]) {
            double[] s = cfg.blurSigma();
            ColorOps.gaussianBlur(img, s[0] + (s[1] - s[0]) * rng.nextDouble());
        }
        if (rng.nextDouble() < cfg.solarizeProbability()[v]) {
            ColorOps.solarize(img);
        }
    }

    /** torchvision ColorJitter: factors drawn once, the four ops in a random order. */
    private void colorJitter(RgbImage img, SplittableRandom rng) {
        double b = factor(cfg.brightness(), rng);
        double c = factor(cfg.contrast(), rng);
        double s = factor(cfg.saturation(), rng);
        double h = (rng.nextDouble() * 2 - 1) * cfg.hue();
        int[] order = {0, 1, 2, 3};
        for (int i = 3; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int op : order) {
            switch (op) {
                case 0 -> ColorOps.brightness(img, b);
                case 1 -> ColorOps.contrast(img, c);
                case 2 -> ColorOps.saturation(img, s);
                default -> ColorOps.hue(img, h);
            }
        }
    }

    private static double factor(double strength, SplittableRandom rng) {
        double lo = Math.max(0, 1 - strength);
        double hi = 1 + strength;
        return lo + (hi - lo) * rng.nextDouble();
    }
}
