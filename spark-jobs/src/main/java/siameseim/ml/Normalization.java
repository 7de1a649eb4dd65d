package siameseim.ml;

import siameseim.eval.FeatureExtractor;

/** What {@link ImageEmbedder} does to each embedding before it becomes a vector. */
enum Normalization {
    /** The pooled features as they are. */
    NONE("none"),
    /** Unit length ({@link FeatureExtractor#unitLength}), as {@code embed --normalize}. */
    L2("l2"),
    /** Centred on its own mean, then unit length (spec 5.4, the few-shot protocol). */
    CENTRE_L2("centre+l2");

    static final String[] NAMES = {"none", "l2", "centre+l2"};

    private final String name;

    Normalization(String name) {
        this.name = name;
    }

    static Normalization named(String name) {
        for (Normalization n : values()) {
            if (n.name.equals(name)) {
                return n;
            }
        }
        throw new IllegalArgumentException("ImageEmbedder: normalize must be none, l2 or centre+l2, got '" + name + "'");
    }

    double[] apply(float[] f) {
        if (this == CENTRE_L2) {
            return FeatureExtractor.centredUnitLength(f);
        }
        float[] g = this == L2 ? FeatureExtractor.unitLength(f) : f;
        double[] d = new double[g.length];
        for (int i = 0; i < g.length; i++) {
            d[i] = g[i];
        }
        return d;
    }
}
