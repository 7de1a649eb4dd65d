package siameseim.datasets.augment;

/**
 * The six relative-geometry scalars of spec 1.2, describing view 2's crop in units of view 1's
 * crop; boxes are in pixels of each view's (possibly flipped) full image of width W.
 */
public record ViewGeometry(double deltaI, double deltaJ, double scaleH, double scaleW, boolean relativeFlip,
        double deltaJFlip) {

    public static ViewGeometry of(CropBox b1, boolean flip1, CropBox b2, boolean flip2, int imageWidth) {
        return new ViewGeometry(
                (b2.top() - b1.top()) / (double) b1.height(),
                (b2.left() - b1.left()) / (double) b1.width(),
                b2.height() / (double) b1.height(),
                b2.width() / (double) b1.width(),
                flip1 ^ flip2,
                (imageWidth - b1.left() - b2.left()) / (double) b1.width());
    }

    /** Writes [di, dj, s_h, s_w, flip, dj_flip] at {@code offset}. */
    public void writeTo(float[] out, int offset) {
        out[offset] = (float) deltaI;
        out[offset + 1] = (float) deltaJ;
        out[offset + 2] = (float) scaleH;
        out[offset + 3] = (float) scaleW;
        out[offset + 4] = relativeFlip ? 1f : 0f;
        out[offset + 5] = (float) deltaJFlip;
    }
}
