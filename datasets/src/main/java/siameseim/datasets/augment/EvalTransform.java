package siameseim.datasets.augment;

import siameseim.datasets.image.RgbImage;

/**
 * The evaluation transform of spec 5: resize the shorter side to size / 0.875 (256 for 224),
 * centre-crop size x size, normalise. Bicubic for kNN/linear/fine-tune evaluation, bilinear for
 * the few-shot protocol (torchvision's default there).
 */
public final class EvalTransform {
    private final int size;
    private final int resizeTo;
    private final Resampler.Filter filter;
    private final double[] mean;
    private final double[] std;

    public EvalTransform(int size, Resampler.Filter filter, double[] mean, double[] std) {
        this.size = size;
        this.resizeTo = (int) (size / 0.875);
        this.filter = filter;
        this.mean = mean;
        this.std = std;
    }

    public int size() {
        return size;
    }

    /** Normalised CHW floats of the centre crop, written at {@code offset}. */
    public void apply(RgbImage img, float[] out, int offset) {
        int w = img.width();
        int h = img.height();
        int nw;
        int nh;
        if (w <= h) {
            nw = resizeTo;
            nh = (int) ((long) resizeTo * h / w);
        } else {
            nh = resizeTo;
            nw = (int) ((long) resizeTo * w / h);
        }
        RgbImage resized = ((nw == w && nh == h) ? img
                : Resampler.resize(img, new CropBox(0, 0, h, w), nw, nh, filter)).rgb();
        int top = (int) Math.rint((nh - size) / 2.0);
        int left = (int) Math.rint((nw - size) / 2.0);
        RgbImage crop = new RgbImage(size, size);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < size; y++) {
                System.arraycopy(resized.data(), (c * nh + y + top) * nw + left, crop.data(), (c * size + y) * size,
                        size);
            }
        }
        ColorOps.normalizeInto(crop, mean, std, out, offset);
    }
}
