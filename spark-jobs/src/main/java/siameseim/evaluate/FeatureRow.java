package siameseim.evaluate;

import java.io.Serializable;

/** One image's frozen-encoder feature and its label. */
public record FeatureRow(int label, float[] feature) implements Serializable {}
