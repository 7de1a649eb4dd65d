package siameseim.model.nn;

import siameseim.host.Simd;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Per-channel mean and biased variance of a (rows, channels) row-major float matrix in CPU
 * memory: the local statistics of the cross-replica BatchNorm ({@link TokenBatchNorm}).
 *
 * <p>Why by hand: libtorch's way to these two vectors through DJL (0.33 to 0.36 have no var_mean)
 * was a training-mode batch_norm with momentum 1 whose normalised output, as large as the input,
 * was written and dropped; it cost as much as the layer's own batch_norm. Here two read-only
 * passes over the tensor's memory (aliased, not copied), the mean first and then the squared
 * deviations from it (no E[x^2] - E[x]^2 cancellation). Rows are summed in float in blocks of
 * {@value #BLOCK} and the block sums in double. With the incubating Vector API ({@code --add-modules
 * jdk.incubator.vector}) the channels of a row are summed in SIMD registers; the lanes are
 * independent channels, so both paths add the same floats in the same order and give the same bits.
 */
public final class ChannelMoments {
    static final int BLOCK = 64;
    private static final boolean VECTOR = Simd.enabled("moments", () -> VectorMoments.lanes() > 1);

    private ChannelMoments() {}

    /** Whether the Vector API path is in use. */
    static boolean usesVectorApi() {
        return VECTOR;
    }

    /**
     * Mean and biased variance of each channel.
     *
     * @param data native-order floats, row after row, from position 0
     * @return {mean, var}, each of {@code channels} floats
     */
    public static float[][] of(ByteBuffer data, int rows, int channels) {
        return of(data, rows, channels, VECTOR);
    }

    static float[][] of(ByteBuffer data, int rows, int channels, boolean simd) {
        if (rows < 1 || channels < 1 || (long) rows * channels * 4 > data.capacity()) {
            throw new IllegalArgumentException("a " + rows + " x " + channels + " float matrix does not fit "
                    + data.capacity() + " bytes");
        }
        ByteBuffer d = data.duplicate().order(ByteOrder.nativeOrder());
        double[] sum = new double[channels];
        float[] acc = new float[channels];
        float[] mean = new float[channels];
        pass(d, rows, channels, null, acc, sum, simd);
        for (int c = 0; c < channels; c++) {
            mean[c] = (float) (sum[c] / rows);
        }
        Arrays.fill(sum, 0);
        pass(d, rows, channels, mean, acc, sum, simd);
        float[] var = new float[channels];
        for (int c = 0; c < channels; c++) {
            var[c] = (float) (sum[c] / rows);
        }
        return new float[][] {mean, var};
    }

    /** sum[c] += x[r][c] (centre null) or (x[r][c] - centre[c])^2 over all rows. */
    private static void pass(ByteBuffer d, int rows, int channels, float[] centre, float[] acc, double[] sum,
            boolean simd) {
        for (int r0 = 0; r0 < rows; r0 += BLOCK) {
            int r1 = Math.min(rows, r0 + BLOCK);
            Arrays.fill(acc, 0f);
            int c0 = 0;
            if (simd) {
                c0 = centre == null ? VectorMoments.sums(d, r0, r1, channels, acc)
                        : VectorMoments.squares(d, r0, r1, channels, centre, acc);
            }
            if (c0 < channels) {
                if (centre == null) {
                    sumsScalar(d, r0, r1, channels, c0, acc);
                } else {
                    squaresScalar(d, r0, r1, channels, c0, centre, acc);
                }
            }
            for (int c = 0; c < channels; c++) {
                sum[c] += acc[c];
            }
        }
    }

    /** acc[c] += x[r][c] for rows [r0, r1), channels from c0 on. */
    static void sumsScalar(ByteBuffer d, int r0, int r1, int channels, int c0, float[] acc) {
        for (int r = r0; r < r1; r++) {
            int base = r * channels * 4;
            for (int c = c0; c < channels; c++) {
                acc[c] += d.getFloat(base + 4 * c);
            }
        }
    }

    /** acc[c] += (x[r][c] - centre[c])^2 for rows [r0, r1), channels from c0 on. */
    static void squaresScalar(ByteBuffer d, int r0, int r1, int channels, int c0, float[] centre, float[] acc) {
        for (int r = r0; r < r1; r++) {
            int base = r * channels * 4;
            for (int c = c0; c < channels; c++) {
                float dev = d.getFloat(base + 4 * c) - centre[c];
                acc[c] += dev * dev;
            }
        }
    }
}
