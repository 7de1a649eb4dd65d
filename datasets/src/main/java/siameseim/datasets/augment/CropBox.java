package siameseim.datasets.augment;

/** A crop in pixels of its source image: top row i, left column j, height h, width w. */
public record CropBox(int top, int left, int height, int width) {}
