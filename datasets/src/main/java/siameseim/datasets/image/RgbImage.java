package siameseim.datasets.image;

import java.util.Arrays;

/**
 * An 8-bit RGB image held as planar floats (R plane, G plane, B plane), values 0..255.
 * Augmentation steps round and clamp to integers after each operation, as PIL's 8-bit images
 * do in the reference pipeline.
 *
 * <p>A grey image ({@link #isGrey}) holds one plane that stands for all three (R = G = B): the
 * SiameseIM augmentation and the decoded-image cache keep grey images (Fashion-MNIST, scans) in
 * that form, a third of the memory and of the work. Code that needs three planes calls
 * {@link #rgb}.
 */
public final class RgbImage {
    private final int width;
    private final int height;
    private final int channels;
    private final float[] data;

    public RgbImage(int width, int height) {
        this(width, height, new float[3 * width * height]);
    }

    public RgbImage(int width, int height, float[] data) {
        this(width, height, 3, data);
    }

    private RgbImage(int width, int height, int channels, float[] data) {
        if (width <= 0 || height <= 0 || data.length != (long) channels * width * height) {
            throw new IllegalArgumentException("bad image size " + width + "x" + height + " for " + data.length
                    + " values in " + channels + " plane(s)");
        }
        this.width = width;
        this.height = height;
        this.channels = channels;
        this.data = data;
    }

    /** A grey image: {@code plane} (width x height values, row-major) is R, G and B at once. */
    public static RgbImage grey(int width, int height, float[] plane) {
        return new RgbImage(width, height, 1, plane);
    }

    /** 1 for a grey image, else 3. */
    public int channels() {
        return channels;
    }

    public boolean isGrey() {
        return channels == 1;
    }

    /** This image with three planes: itself, or a grey image's plane copied three times. */
    public RgbImage rgb() {
        if (channels == 3) {
            return this;
        }
        int n = plane();
        float[] d = new float[3 * n];
        for (int c = 0; c < 3; c++) {
            System.arraycopy(data, 0, d, c * n, n);
        }
        return new RgbImage(width, height, d);
    }

    /**
     * The grey form of this image when its three planes are equal (a new image with a copy of
     * one plane), else this image. Colour images usually differ within their first pixels, so
     * the test costs them next to nothing.
     */
    public RgbImage greyIfNeutral() {
        if (channels == 1) {
            return this;
        }
        int n = plane();
        if (!Arrays.equals(data, 0, n, data, n, 2 * n)
                || !Arrays.equals(data, 0, n, data, 2 * n, 3 * n)) {
            return this;
        }
        return grey(width, height, Arrays.copyOf(data, n));
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** Planar RGB, index = (c * height + y) * width + x; a grey image's one plane (c = 0). */
    public float[] data() {
        return data;
    }

    public int plane() {
        return width * height;
    }

    public float get(int c, int y, int x) {
        return data[((channels == 1 ? 0 : c) * height + y) * width + x];
    }

    /** Sets one value; a grey image has only channel 0 (which sets R, G and B at once). */
    public void set(int c, int y, int x, float v) {
        if (c >= channels) {
            throw new IllegalArgumentException("channel " + c + " of a grey image (call rgb() first)");
        }
        data[(c * height + y) * width + x] = v;
    }

    /** From packed 0xRRGGBB pixels, row-major. */
    public static RgbImage fromPacked(int width, int height, int[] rgb) {
        RgbImage img = new RgbImage(width, height);
        int n = width * height;
        float[] d = img.data;
        for (int i = 0; i < n; i++) {
            int p = rgb[i];
            d[i] = (p >> 16) & 0xff;
            d[n + i] = (p >> 8) & 0xff;
            d[2 * n + i] = p & 0xff;
        }
        return img;
    }

    /** To packed 0xRRGGBB pixels (values rounded and clamped). */
    public int[] toPacked() {
        int n = width * height;
        int g = channels == 1 ? 0 : n;
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = (u8(data[i]) << 16) | (u8(data[g + i]) << 8) | u8(data[2 * g + i]);
        }
        return out;
    }

    public RgbImage copy() {
        return new RgbImage(width, height, channels, data.clone());
    }

    /** Round half away from zero and clamp to 0..255 (PIL's 8-bit store). */
    public static float clampRound(float v) {
        // without branches (the image loops call this for every value, and mispredicted
        // data-dependent branches cost more than the arithmetic): v + 0.5 truncated is the
        // rounding for v > -0.5 and <= 0 below it; NaN gives 0
        return Math.max(0, Math.min(255, (int) (v + 0.5f)));
    }

    static int u8(float v) {
        return (int) clampRound(v);
    }

    /** Horizontally mirrored copy. */
    public RgbImage flipHorizontal() {
        RgbImage out = new RgbImage(width, height, channels, new float[data.length]);
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < height; y++) {
                int row = (c * height + y) * width;
                for (int x = 0; x < width; x++) {
                    out.data[row + x] = data[row + width - 1 - x];
                }
            }
        }
        return out;
    }
}
