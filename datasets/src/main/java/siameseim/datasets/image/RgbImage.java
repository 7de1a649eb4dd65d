package siameseim.datasets.image;

/**
 * An 8-bit RGB image held as planar floats (R plane, G plane, B plane), values 0..255.
 * Augmentation steps round and clamp to integers after each operation, as PIL's 8-bit images
 * do in the reference pipeline.
 */
public final class RgbImage {
    private final int width;
    private final int height;
    private final float[] data;

    public RgbImage(int width, int height) {
        this(width, height, new float[3 * width * height]);
    }

    public RgbImage(int width, int height, float[] data) {
        if (width <= 0 || height <= 0 || data.length != 3L * width * height) {
            throw new IllegalArgumentException("bad image size " + width + "x" + height);
        }
        this.width = width;
        this.height = height;
        this.data = data;
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** Planar RGB, index = (c * height + y) * width + x. */
    public float[] data() {
        return data;
    }

    public int plane() {
        return width * height;
    }

    public float get(int c, int y, int x) {
        return data[(c * height + y) * width + x];
    }

    public void set(int c, int y, int x, float v) {
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
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = (u8(data[i]) << 16) | (u8(data[n + i]) << 8) | u8(data[2 * n + i]);
        }
        return out;
    }

    public RgbImage copy() {
        return new RgbImage(width, height, data.clone());
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
        RgbImage out = new RgbImage(width, height);
        for (int c = 0; c < 3; c++) {
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
