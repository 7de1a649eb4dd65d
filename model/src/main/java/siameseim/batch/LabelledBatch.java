package siameseim.batch;

/**
 * One micro-batch for fine-tuning: normalised images (n, 3, size, size) after mixup, their soft
 * targets (n, classes) and the original labels.
 */
public record LabelledBatch(int size, int imageSize, float[] images, float[] targets, int classes, int[] labels) {}
