package siameseim.datasets.augment;

import siameseim.datasets.image.RgbImage;

/**
 * The colour operations of the reference pipeline with PIL's semantics on 8-bit images
 * (ImageEnhance blends, ITU-R 601-2 luma, ImageOps.solarize), each rounding to integers.
 *
 * <p>Deviations, all below one grey level on typical images: hue is shifted in float HSV
 * instead of PIL's uint8 HSV; the blur is an exact separable Gaussian (radius 3 sigma, edge
 * pixels repeated) where PIL approximates it with three box blurs.
 *
 * <p>A grey image ({@link RgbImage#isGrey}) gets the result its three-plane form would get,
 * bit for bit, in one plane: its luma is its value (the luma weights sum to 2^16), so contrast's
 * mean is the plane's mean, and saturation, hue and grayscale leave it as it is.
 */
public final class ColorOps {
    private ColorOps() {}

    /** PIL's luma, L = (19595 R + 38470 G + 7471 B + 2^15) >> 16. */
    static float luma(float r, float g, float b) {
        return Kernels.luma(r, g, b);
    }

    /** ImageEnhance.Brightness: blend with black. */
    public static void brightness(RgbImage img, double factor) {
        Kernels.scaleRound(img.data(), (float) factor);
    }

    /** ImageEnhance.Contrast: blend with the mean luma (rounded to an integer). */
    public static void contrast(RgbImage img, double factor) {
        float[] d = img.data();
        int n = img.plane();
        double sum = img.isGrey() ? planeSum(d) : Kernels.lumaSum(d, n);
        float mean = (float) Math.floor(sum / n + 0.5);
        Kernels.blendRound(d, mean, (float) factor);
    }

    /** ImageEnhance.Color: blend with the image's own luma. */
    public static void saturation(RgbImage img, double factor) {
        if (img.isGrey()) {
            return; // round(l + f (v - l)) with l = v
        }
        Kernels.saturate(img.data(), img.plane(), (float) factor);
    }

    /**
     * Hue rotation by {@code shift} of a full turn (|shift| <= 0.5), in HSV on the 0..255 scale:
     * with V = max, S * V = max - min = delta and f the fraction within the hue's sector, the
     * HSV-to-RGB terms are p = min, q = max - delta f, t = min + delta f, so a pixel costs one
     * division (its hue) instead of the textbook conversion's six. Grey pixels (delta 0) have
     * no hue and stay as they are.
     */
    public static void hue(RgbImage img, double shift) {
        if (img.isGrey()) {
            return; // no hue: every pixel is grey
        }
        Kernels.hue(img.data(), img.plane(), (float) shift);
    }

    /** convert("L") then back to three equal channels. */
    public static void grayscale(RgbImage img) {
        if (img.isGrey()) {
            return;
        }
        Kernels.grayscale(img.data(), img.plane());
    }

    /** ImageOps.solarize(threshold 128): values >= 128 become 255 - v. */
    public static void solarize(RgbImage img) {
        float[] d = img.data();
        for (int i = 0; i < d.length; i++) {
            if (d[i] >= 128) {
                d[i] = 255 - d[i];
            }
        }
    }

    /** Separable Gaussian blur with standard deviation {@code sigma} pixels (edges repeated). */
    public static void gaussianBlur(RgbImage img, double sigma) {
        if (sigma <= 0) {
            return;
        }
        int radius = Math.max(1, (int) Math.ceil(3 * sigma));
        float[] k = new float[2 * radius + 1];
        double total = 0;
        for (int i = -radius; i <= radius; i++) {
            total += Math.exp(-(i * i) / (2 * sigma * sigma));
        }
        for (int i = -radius; i <= radius; i++) {
            k[i + radius] = (float) (Math.exp(-(i * i) / (2 * sigma * sigma)) / total);
        }
        int w = img.width();
        int h = img.height();
        float[] d = img.data();
        float[] tmp = Scratch.floats(Scratch.Slot.BLUR, d.length);
        // rows copied with their edge pixels repeated, then summed tap by tap over whole rows:
        // each pixel adds the same terms in the same order as a per-pixel loop, but a row is a
        // few SIMD operations per tap (Kernels)
        float[] padded = new float[w + 2 * radius];
        int[] shifts = new int[k.length];
        for (int t = 0; t < k.length; t++) {
            shifts[t] = t;
        }
        int[] rows = new int[k.length];
        for (int c = 0; c < img.channels(); c++) {
            for (int y = 0; y < h; y++) {
                int at = (c * h + y) * w;
                java.util.Arrays.fill(padded, 0, radius, d[at]);
                System.arraycopy(d, at, padded, radius, w);
                java.util.Arrays.fill(padded, radius + w, padded.length, d[at + w - 1]);
                Kernels.weightedRows(padded, shifts, k, k.length, w, tmp, at, false);
            }
            for (int y = 0; y < h; y++) {
                for (int t = -radius; t <= radius; t++) {
                    rows[t + radius] = (c * h + Math.min(h - 1, Math.max(0, y + t))) * w;
                }
                Kernels.weightedRows(tmp, rows, k, k.length, w, d, (c * h + y) * w, true);
            }
        }
    }

    /** A grey plane's sum, exact (integers 0..255 in a double), as {@link Kernels#lumaSum} is. */
    private static double planeSum(float[] d) {
        double sum = 0;
        for (float v : d) {
            sum += v;
        }
        return sum;
    }

    /** ToTensor + Normalize into {@code out} at {@code offset}: (v / 255 - mean) / std, CHW. */
    public static void normalizeInto(RgbImage img, double[] mean, double[] std, float[] out, int offset) {
        float[] d = img.data();
        int n = img.plane();
        for (int c = 0; c < 3; c++) {
            float scale = (float) (1.0 / (255.0 * std[c]));
            float shift = (float) (-mean[c] / std[c]);
            int base = c * n;
            int from = img.isGrey() ? 0 : base;
            Kernels.scaleShift(d, from, out, offset + base, n, scale, shift);
        }
    }
}
