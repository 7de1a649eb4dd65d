package siameseim.datasets.augment;

import siameseim.host.Simd;
import siameseim.datasets.image.RgbImage;

/**
 * The inner loops of resampling, blur and the colour operations, on rows and planes of float
 * pixels. With the incubating Vector API ({@code --add-modules jdk.incubator.vector}, which
 * Spark's launcher and ours pass) they run in SIMD registers ({@link VectorKernels}); otherwise
 * as plain loops. Both give the same bits: every element is computed with the same float
 * operations in the same order (Java never fuses a multiply and an add), and the vector rounding
 * is proven equal to {@link RgbImage#clampRound} in {@link VectorKernels}.
 *
 * <p>Why by hand: a demo view's rows are 32 floats, and C2 unrolls its auto-vectorised loops
 * past that, so a 32-float row ran in the scalar remainder loop; its float-to-int conversion
 * (the 8-bit rounding) did not vectorise at all, and the horizontal resampling pass is a gather.
 */
final class Kernels {
    private static final boolean VECTOR = Simd.enabled("augment", () -> VectorKernels.works());

    private Kernels() {}

    /** Whether the Vector API path is in use. */
    static boolean usesVectorApi() {
        return VECTOR;
    }

    /**
     * The horizontal resampling pass over whole rows: for every row r and output pixel x,
     * dst[r * n + x] = clampRound(sum over t of k[t] * src[rowStart[r] + step * (start[x] + t)]) with
     * k = weights[x] and n = start.length, the taps added in the order t = 0, 1, ... to a sum that
     * starts at 0 (PIL's per-pixel dot product). {@code step} -1 reads the rows mirrored.
     */
    static void resampleRows(float[] src, int[] rowStart, int step, Resampler.Axis axis, float[] dst) {
        if (VECTOR) {
            VectorKernels.resampleRows(src, rowStart, step, axis.start, axis.weights, axis.min, axis.max - axis.min,
                    dst);
        } else {
            int n = axis.start.length;
            for (int r = 0; r < rowStart.length; r++) {
                resampleRowScalar(src, rowStart[r], step, axis.start, axis.weights, dst, r * n);
            }
        }
    }

    /**
     * A weighted sum of rows: dst[to + x] = sum over t &lt; taps of w[t] * src[from[t] + x] for x in
     * [0, n), the terms added in order t = 0, 1, ... to a sum that starts at 0; rounded to 8 bits
     * ({@link RgbImage#clampRound}) when {@code round}. The vertical resampling pass and both
     * blur passes.
     */
    static void weightedRows(float[] src, int[] from, float[] w, int taps, int n, float[] dst, int to, boolean round) {
        if (VECTOR) {
            VectorKernels.weightedRows(src, from, w, taps, n, dst, to, round);
        } else {
            weightedRowsScalar(src, from, w, taps, n, dst, to, round, 0);
        }
    }

    /** dst[to + i] = src[from + i] * scale + shift for i in [0, n): the normalisation. */
    static void scaleShift(float[] src, int from, float[] dst, int to, int n, float scale, float shift) {
        if (VECTOR) {
            VectorKernels.scaleShift(src, from, dst, to, n, scale, shift);
        } else {
            scaleShiftScalar(src, from, dst, to, n, scale, shift, 0);
        }
    }

    /** d[i] = clampRound(c + f * (d[i] - c)) over the whole array: a blend with the constant c. */
    static void blendRound(float[] d, float c, float f) {
        if (VECTOR) {
            VectorKernels.blendRound(d, c, f);
        } else {
            blendRoundScalar(d, c, f, 0);
        }
    }

    /** d[i] = clampRound(d[i] * f) over the whole array: a blend with black. */
    static void scaleRound(float[] d, float f) {
        if (VECTOR) {
            VectorKernels.scaleRound(d, f);
        } else {
            scaleRoundScalar(d, f, 0);
        }
    }

    /** Sum of the plane's PIL lumas (see {@link #luma}); pixels hold integers 0..255. */
    static double lumaSum(float[] d, int n) {
        return VECTOR ? VectorKernels.lumaSum(d, n) : lumaSumScalar(d, n, 0, 0);
    }

    /** ImageEnhance.Color: each channel blended with the pixel's luma by factor f, rounded. */
    static void saturate(float[] d, int n, float f) {
        if (VECTOR) {
            VectorKernels.saturate(d, n, f);
        } else {
            saturateScalar(d, n, f, 0);
        }
    }

    /** Every channel set to the pixel's luma. */
    static void grayscale(float[] d, int n) {
        if (VECTOR) {
            VectorKernels.grayscale(d, n);
        } else {
            grayscaleScalar(d, n, 0);
        }
    }

    /** The hue rotation of {@link ColorOps#hue} by {@code turn} of a full turn. */
    static void hue(float[] d, int n, float turn) {
        if (VECTOR) {
            VectorKernels.hue(d, n, turn);
        } else {
            hueScalar(d, n, turn, 0);
        }
    }

    /** PIL's luma, L = (19595 R + 38470 G + 7471 B + 2^15) >> 16. */
    static float luma(float r, float g, float b) {
        // pixels hold integers 0..255 after every operation
        return (19595 * (int) r + 38470 * (int) g + 7471 * (int) b + 32768) >> 16;
    }

    // the scalar loops, from element `start` on (the vector path finishes its tails with them)

    static void resampleRowScalar(float[] src, int rowStart, int step, int[] start, float[][] weights, float[] dst,
            int to) {
        for (int x = 0; x < start.length; x++) {
            float[] k = weights[x];
            int at = rowStart + step * start[x];
            float a = 0;
            for (int t = 0; t < k.length; t++) {
                a += k[t] * src[at + step * t];
            }
            dst[to + x] = RgbImage.clampRound(a);
        }
    }

    static void weightedRowsScalar(float[] src, int[] from, float[] w, int taps, int n, float[] dst, int to,
            boolean round, int start) {
        for (int x = start; x < n; x++) {
            float a = 0;
            for (int t = 0; t < taps; t++) {
                a += w[t] * src[from[t] + x];
            }
            dst[to + x] = round ? RgbImage.clampRound(a) : a;
        }
    }

    static void scaleShiftScalar(float[] src, int from, float[] dst, int to, int n, float scale, float shift,
            int start) {
        for (int i = start; i < n; i++) {
            dst[to + i] = src[from + i] * scale + shift;
        }
    }

    static void blendRoundScalar(float[] d, float c, float f, int start) {
        for (int i = start; i < d.length; i++) {
            d[i] = RgbImage.clampRound(c + f * (d[i] - c));
        }
    }

    static void scaleRoundScalar(float[] d, float f, int start) {
        for (int i = start; i < d.length; i++) {
            d[i] = RgbImage.clampRound(d[i] * f);
        }
    }

    static double lumaSumScalar(float[] d, int n, int start, double sum) {
        for (int i = start; i < n; i++) {
            sum += luma(d[i], d[n + i], d[2 * n + i]);
        }
        return sum;
    }

    static void saturateScalar(float[] d, int n, float f, int start) {
        for (int i = start; i < n; i++) {
            float l = luma(d[i], d[n + i], d[2 * n + i]);
            d[i] = RgbImage.clampRound(l + f * (d[i] - l));
            d[n + i] = RgbImage.clampRound(l + f * (d[n + i] - l));
            d[2 * n + i] = RgbImage.clampRound(l + f * (d[2 * n + i] - l));
        }
    }

    static void grayscaleScalar(float[] d, int n, int start) {
        for (int i = start; i < n; i++) {
            float l = luma(d[i], d[n + i], d[2 * n + i]);
            d[i] = l;
            d[n + i] = l;
            d[2 * n + i] = l;
        }
    }

    static void hueScalar(float[] d, int n, float turn, int start) {
        for (int i = start; i < n; i++) {
            float r = d[i];
            float g = d[n + i];
            float b = d[2 * n + i];
            float max = Math.max(r, Math.max(g, b));
            float min = Math.min(r, Math.min(g, b));
            float delta = max - min;
            if (delta == 0) {
                continue;
            }
            float h;
            if (max == r) {
                h = (g - b) / delta;
            } else if (max == g) {
                h = (b - r) / delta + 2;
            } else {
                h = (r - g) / delta + 4;
            }
            h = h / 6 + turn;
            h -= (float) Math.floor(h);
            float h6 = h * 6;
            int sector = Math.min(5, (int) h6);
            float f = h6 - sector;
            float q = RgbImage.clampRound(max - delta * f);
            float t = RgbImage.clampRound(min + delta * f);
            float rr;
            float gg;
            float bb;
            switch (sector) {
                case 0 -> { rr = max; gg = t; bb = min; }
                case 1 -> { rr = q; gg = max; bb = min; }
                case 2 -> { rr = min; gg = max; bb = t; }
                case 3 -> { rr = min; gg = q; bb = max; }
                case 4 -> { rr = t; gg = min; bb = max; }
                default -> { rr = max; gg = min; bb = q; }
            }
            d[i] = rr;
            d[n + i] = gg;
            d[2 * n + i] = bb;
        }
    }
}
