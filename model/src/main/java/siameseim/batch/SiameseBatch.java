package siameseim.batch;

/**
 * One batch of SiameseIM inputs on the host, as the data pipeline produces it (spec 1):
 * two normalised views (B, 3, H, W) in NCHW order, the visible view-1 patch indices (B, Lv) in
 * raster order, and the six geometry scalars per sample (B, 6):
 * [di, dj, s_h, s_w, relative_flip (0/1), dj_flip]. Plain arrays: the loader fills them
 * without an engine; the trainer makes the tensors ({@code SiameseInputs.of}).
 */
public record SiameseBatch(int size, int imageSize, float[] view1, float[] view2, long[] visible, int visibleCount,
        float[] geometry) {

    public SiameseBatch {
        long pixels = (long) size * 3 * imageSize * imageSize;
        if (view1.length != pixels || view2.length != pixels) {
            throw new IllegalArgumentException("views must hold " + pixels + " floats");
        }
        if (visible.length != (long) size * visibleCount || geometry.length != size * 6) {
            throw new IllegalArgumentException("visible/geometry sizes do not match batch " + size);
        }
    }
}
