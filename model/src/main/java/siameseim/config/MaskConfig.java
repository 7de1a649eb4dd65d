package siameseim.config;

/** Block-wise mask of view 1 (spec 1.3): exactly {@code count} of the L patches are masked. */
public record MaskConfig(int count, int minBlock, int maxBlock, double minAspect) implements java.io.Serializable {

    static MaskConfig read(ConfigReader r, ModelConfig model) {
        int tokens = model.tokens();
        int count = r.intValue("mask.count", 0, Integer.MAX_VALUE);
        if (count >= tokens) {
            throw r.invalid("mask.count", "must be below the " + tokens + " patch tokens of a "
                    + model.imageSize() + " px image with " + model.patchSize() + " px patches");
        }
        int minBlock = r.intValue("mask.min-block", 1, Integer.MAX_VALUE);
        int maxBlock = r.intValue("mask.max-block", 0, Integer.MAX_VALUE);
        if (maxBlock == 0) {
            maxBlock = count;
        }
        if (count > 0 && maxBlock < minBlock) {
            throw r.invalid("mask.max-block", "is below mask.min-block = " + minBlock);
        }
        double aspect = r.doubleValue("mask.min-aspect", 1e-3, 1.0);
        return new MaskConfig(count, minBlock, maxBlock, aspect);
    }
}
