package siameseim.evaluate;

import java.io.Serializable;

/** One image's frozen-encoder feature, its key (its path in the source) and its label (-1: none). */
public record FeatureRow(String key, int label, float[] feature) implements Serializable {}
