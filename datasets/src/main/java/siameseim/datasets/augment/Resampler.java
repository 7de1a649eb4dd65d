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

    /** Resizes the region {@code box} of {@code src} to outW x outH (a grey image stays grey). */
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
        return resize(src, mirrored, box, outW, outH, filter, false);
    }

    /**
     * {@link #resize} or {@link #resizeMirrored} into this thread's scratch image ({@link Scratch}),
     * which the next call on this thread overwrites: for a view that is used up (coloured and
     * normalised) before the next one is made, without a new 600 KB image each time.
     */
    static RgbImage scratchView(RgbImage src, boolean mirrored, CropBox box, int outW, int outH, Filter filter) {
        return resize(src, mirrored, box, outW, outH, filter, true);
    }

    private static RgbImage resize(RgbImage src, boolean mirrored, CropBox box, int outW, int outH, Filter filter,
            boolean scratch) {
        Axis horizontal = Axis.of(box.left(), box.width(), src.width(), outW, filter);
        Axis vertical = Axis.of(box.top(), box.height(), src.height(), outH, filter);
        // horizontal pass over the rows the vertical pass will read
        int rowMin = vertical.min;
        int rows = vertical.max - rowMin;
        int channels = src.channels();
        float[] tmp = Scratch.floats(Scratch.Slot.RESAMPLED_ROWS, channels * rows * outW);
        float[] s = src.data();
        int sw = src.width();
        int sh = src.height();
        int[] rowStart = new int[channels * rows];
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < rows; y++) {
                // column j of the flipped row is column sw - 1 - j of the source row
                rowStart[c * rows + y] = (c * sh + y + rowMin) * sw + (mirrored ? sw - 1 : 0);
            }
        }
        Kernels.resampleRows(s, rowStart, mirrored ? -1 : 1, horizontal, tmp);
        int size = channels * outW * outH;
        float[] pixels = !scratch ? new float[size]
                : Scratch.floatsExactly(channels == 1 ? Scratch.Slot.VIEW_GREY : Scratch.Slot.VIEW_RGB, size);
        RgbImage out = channels == 1 ? RgbImage.grey(outW, outH, pixels) : new RgbImage(outW, outH, pixels);
        float[] o = out.data();
        int[] from = new int[Math.max(1, vertical.taps)];
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < outH; y++) {
                float[] k = vertical.weights[y];
                for (int t = 0; t < k.length; t++) {
                    from[t] = (c * rows + vertical.start[y] - rowMin + t) * outW;
                }
                Kernels.weightedRows(tmp, from, k, k.length, outW, o, (c * outH + y) * outW, true);
            }
        }
        return out;
    }

    /**
     * One axis of a resize: PIL's kernel weights and first input index per output pixel, and the
     * forms the passes read. Immutable and shared: the weights depend only on (first input
     * pixel, span, input size, output size, filter), and for small images (a demo view: 48 px
     * to 32 px) the few thousand combinations recur all the time, while computing them cost a
     * sixth of a view's augmentation. Large images make more combinations than are kept and
     * compute the rest (there the resampling itself dominates).
     */
    static final class Axis {
        private static final int CACHED = 1 << 14;
        private static final java.util.concurrent.ConcurrentHashMap<Long, Axis> CACHE =
                new java.util.concurrent.ConcurrentHashMap<>();

        /** First input index and normalised weights of each output pixel. */
        final int[] start;
        final float[][] weights;
        /** The widest kernel. */
        final int taps;
        /** The input indices read: [min, max). */
        final int min;
        final int max;
        private Axis(int[] start, float[][] weights) {
            this.start = start;
            this.weights = weights;
            int t = 0;
            int lo = Integer.MAX_VALUE;
            int hi = 0;
            for (int x = 0; x < start.length; x++) {
                t = Math.max(t, weights[x].length);
                lo = Math.min(lo, start[x]);
                hi = Math.max(hi, start[x] + weights[x].length);
            }
            this.taps = t;
            this.min = lo;
            this.max = hi;
        }

        static Axis of(int in0, int span, int inSize, int outSize, Filter f) {
            if ((in0 | span | inSize | outSize) >>> 15 != 0) {
                return compute(in0, span, inSize, outSize, f);
            }
            long key = ((((long) in0 << 15 | span) << 15 | inSize) << 15 | outSize) << 1 | f.ordinal();
            Axis a = CACHE.get(key);
            if (a == null) {
                a = compute(in0, span, inSize, outSize, f);
                if (CACHE.size() < CACHED) {
                    CACHE.putIfAbsent(key, a);
                }
            }
            return a;
        }

        /** PIL's precompute_coeffs for the input span [in0, in0 + span) of an axis of length inSize. */
        private static Axis compute(int in0, int span, int inSize, int outSize, Filter f) {
            double scale = (double) span / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = f.support * filterScale;
            int[] start = new int[outSize];
            float[][] w = new float[outSize][];
            double ss = 1.0 / filterScale;
            double[] k = new double[(int) (2 * support) + 3]; // the widest kernel, reused per pixel
            for (int xx = 0; xx < outSize; xx++) {
                double center = in0 + (xx + 0.5) * scale;
                int xmin = Math.max((int) (center - support + 0.5), 0);
                int n = Math.max(Math.min((int) (center + support + 0.5), inSize) - xmin, 0);
                double total = 0;
                for (int x = 0; x < n; x++) {
                    k[x] = f.weight((x + xmin - center + 0.5) * ss);
                    total += k[x];
                }
                float[] kf = new float[n];
                for (int x = 0; x < n; x++) {
                    kf[x] = (float) (total != 0 ? k[x] / total : k[x]);
                }
                start[xx] = xmin;
                w[xx] = kf;
            }
            return new Axis(start, w);
        }
    }
}
