package siameseim.datasets.augment;

import siameseim.datasets.image.RgbImage;

/**
 * Separable resampling as PIL's {@code Image.resize} does it: a bicubic (a = -0.5) or bilinear
 * kernel whose support widens by the scale factor when downscaling (antialiasing), horizontal
 * pass then vertical pass, 8-bit rounding after each pass. torchvision's RandomResizedCrop and
 * Resize on PIL images go through exactly this.
 */
public final class Resampler {
    /** The interpolation kernels used by the reference transforms. */
    public enum Filter {
        BICUBIC(2.0),
        BILINEAR(1.0);

        final double support;

        Filter(double support) {
            this.support = support;
        }

        double weight(double x) {
            x = Math.abs(x);
            if (this == BILINEAR) {
                return x < 1 ? 1 - x : 0;
            }
            double a = -0.5;
            if (x < 1) {
                return ((a + 2) * x - (a + 3)) * x * x + 1;
            }
            if (x < 2) {
                return (((x - 5) * x + 8) * x - 4) * a;
            }
            return 0;
        }
    }

    private Resampler() {}

    /** Resizes the region {@code box} of {@code src} to outW x outH. */
    public static RgbImage resize(RgbImage src, CropBox box, int outW, int outH, Filter filter) {
        return resize(src, false, box, outW, outH, filter);
    }

    /**
     * {@code resize(src.flipHorizontal(), box, ...)}, bit for bit, without the flipped copy: the
     * horizontal pass reads the source columns mirrored ({@code box} is in the flipped image's
     * coordinates, as the reference flips before cropping). The copy cost a fifth of a demo view.
     */
    public static RgbImage resizeMirrored(RgbImage src, CropBox box, int outW, int outH, Filter filter) {
        return resize(src, true, box, outW, outH, filter);
    }

    private static RgbImage resize(RgbImage src, boolean mirrored, CropBox box, int outW, int outH, Filter filter) {
        Coeffs horizontal = coeffs(box.left(), box.left() + box.width(), src.width(), outW, filter);
        Coeffs vertical = coeffs(box.top(), box.top() + box.height(), src.height(), outH, filter);
        // horizontal pass over the rows the vertical pass will read
        int rowMin = vertical.minIndex();
        int rowMax = vertical.maxIndex();
        int rows = rowMax - rowMin;
        float[] tmp = new float[3 * rows * outW];
        float[] s = src.data();
        int sw = src.width();
        int sh = src.height();
        // tap-major: every output pixel of a row accumulates its taps in the same order as a
        // per-pixel dot product (so the same bits), but the pixels' sums are independent of
        // each other: a row is a few SIMD gathers per tap (Kernels)
        int taps = horizontal.taps();
        int[] first = horizontal.paddedStart(sw);
        if (mirrored) {
            // column j of the flipped row is column sw - 1 - j of the source row
            for (int x = 0; x < outW; x++) {
                first[x] = -first[x];
            }
        }
        float[] wt = horizontal.tapMajor(sw);
        float[] acc = new float[outW];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < rows; y++) {
                int srcRow = (c * sh + y + rowMin) * sw;
                int dstRow = (c * rows + y) * outW;
                java.util.Arrays.fill(acc, 0f);
                for (int t = 0; t < taps; t++) {
                    int from = mirrored ? srcRow + sw - 1 - t : srcRow + t;
                    Kernels.gatherAxpy(acc, wt, t * outW, s, from, first, outW);
                }
                Kernels.roundInto(acc, tmp, dstRow, outW);
            }
        }
        RgbImage out = new RgbImage(outW, outH);
        float[] o = out.data();
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < outH; y++) {
                int start = vertical.start[y] - rowMin;
                float[] k = vertical.weights[y];
                java.util.Arrays.fill(acc, 0f);
                for (int t = 0; t < k.length; t++) {
                    Kernels.axpy(acc, k[t], tmp, (c * rows + start + t) * outW, outW);
                }
                Kernels.roundInto(acc, o, (c * outH + y) * outW, outW);
            }
        }
        return out;
    }

    private record Coeffs(int[] start, float[][] weights) {
        int taps() {
            int m = 0;
            for (float[] w : weights) {
                m = Math.max(m, w.length);
            }
            return m;
        }

        /**
         * Each output pixel's first input index when every kernel is padded to {@link #taps()}
         * taps: pixels whose kernel would run past the edge start earlier, with leading zero
         * weights (0 + w * v is exactly w * v, so the sums keep their bits).
         */
        int[] paddedStart(int inSize) {
            int taps = taps();
            int[] out = new int[start.length];
            for (int x = 0; x < start.length; x++) {
                out[x] = start[x] - Math.max(0, start[x] + taps - inSize);
            }
            return out;
        }

        /** The padded weights, tap-major: index t * outSize + x. */
        float[] tapMajor(int inSize) {
            int taps = taps();
            int n = start.length;
            float[] out = new float[taps * n];
            for (int x = 0; x < n; x++) {
                int lead = Math.max(0, start[x] + taps - inSize);
                for (int t = 0; t < weights[x].length; t++) {
                    out[(lead + t) * n + x] = weights[x][t];
                }
            }
            return out;
        }

        int minIndex() {
            int m = Integer.MAX_VALUE;
            for (int s : start) {
                m = Math.min(m, s);
            }
            return m;
        }

        int maxIndex() {
            int m = 0;
            for (int i = 0; i < start.length; i++) {
                m = Math.max(m, start[i] + weights[i].length);
            }
            return m;
        }
    }

    /** PIL's precompute_coeffs for the input span [in0, in1) of an axis of length inSize. */
    private static Coeffs coeffs(double in0, double in1, int inSize, int outSize, Filter f) {
        double scale = (in1 - in0) / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = f.support * filterScale;
        int[] start = new int[outSize];
        float[][] w = new float[outSize][];
        for (int xx = 0; xx < outSize; xx++) {
            double center = in0 + (xx + 0.5) * scale;
            double ss = 1.0 / filterScale;
            int xmin = Math.max((int) (center - support + 0.5), 0);
            int xmax = Math.min((int) (center + support + 0.5), inSize) - xmin;
            double[] k = new double[Math.max(xmax, 0)];
            double total = 0;
            for (int x = 0; x < k.length; x++) {
                k[x] = f.weight((x + xmin - center + 0.5) * ss);
                total += k[x];
            }
            if (total != 0) {
                for (int x = 0; x < k.length; x++) {
                    k[x] /= total;
                }
            }
            start[xx] = xmin;
            float[] kf = new float[k.length];
            for (int x = 0; x < k.length; x++) {
                kf[x] = (float) k[x];
            }
            w[xx] = kf;
        }
        return new Coeffs(start, w);
    }
}
