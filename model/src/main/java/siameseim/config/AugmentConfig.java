package siameseim.config;

/** The asymmetric two-view augmentation (spec 1.1); arrays of two hold (view 1, view 2). */
public record AugmentConfig(
        double[] cropScale,
        double[] cropRatio,
        double colorJitterProbability,
        double brightness,
        double contrast,
        double saturation,
        double hue,
        double grayscaleProbability,
        double[] blurSigma,
        double[] blurProbability,
        double[] solarizeProbability,
        double[] mean,
        double[] std) implements java.io.Serializable {

    static AugmentConfig read(ConfigReader r) {
        double[] scale = r.doubleList("augment.crop-scale", 2, 1e-6, 1.0);
        if (scale[0] > scale[1]) {
            throw r.invalid("augment.crop-scale", "must be [min, max] with min <= max");
        }
        double[] ratio = r.doubleList("augment.crop-ratio", 2, 1e-3, 1e3);
        if (ratio[0] > ratio[1]) {
            throw r.invalid("augment.crop-ratio", "must be [min, max] with min <= max");
        }
        double[] sigma = r.doubleList("augment.blur-sigma", 2, 0, 1e3);
        if (sigma[0] > sigma[1]) {
            throw r.invalid("augment.blur-sigma", "must be [min, max] with min <= max");
        }
        return new AugmentConfig(scale, ratio,
                r.doubleValue("augment.color-jitter-probability", 0, 1),
                r.doubleValue("augment.brightness", 0, 10), r.doubleValue("augment.contrast", 0, 10),
                r.doubleValue("augment.saturation", 0, 10), r.doubleValue("augment.hue", 0, 0.5),
                r.doubleValue("augment.grayscale-probability", 0, 1), sigma,
                r.doubleList("augment.blur-probability", 2, 0, 1),
                r.doubleList("augment.solarize-probability", 2, 0, 1),
                r.doubleList("augment.mean", 3, -1e3, 1e3), r.doubleList("augment.std", 3, 1e-9, 1e3));
    }
}
