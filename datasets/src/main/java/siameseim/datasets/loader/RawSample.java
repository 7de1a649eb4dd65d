package siameseim.datasets.loader;

import siameseim.datasets.image.RgbImage;

/** A sample before augmentation: its dataset index and label, and either encoded bytes or pixels. */
public record RawSample(int id, int label, byte[] encoded, RgbImage image) {}
