package siameseim.model.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ChannelMomentsTest {

    private static ByteBuffer matrix(float[] values) {
        ByteBuffer b = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.nativeOrder());
        b.asFloatBuffer().put(values);
        return b;
    }

    private static float[] random(int rows, int channels, double offset, double scale, long seed) {
        Random rng = new Random(seed);
        float[] v = new float[rows * channels];
        for (int i = 0; i < v.length; i++) {
            int c = i % channels;
            v[i] = (float) (offset * (c + 1) + scale * (1 + c % 3) * rng.nextGaussian());
        }
        return v;
    }

    @Test
    void theVectorPathIsInUseAndGivesTheScalarPathsBits() {
        assertTrue(ChannelMoments.usesVectorApi(), "tests run with jdk.incubator.vector");
        // whole vectors, a channel tail, rows that do not fill the last block
        for (int[] shape : new int[][] {{8320, 64}, {200, 37}, {1, 5}, {129, 16}, {3, 100}}) {
            ByteBuffer b = matrix(random(shape[0], shape[1], 0.5, 2, shape[0]));
            float[][] simd = ChannelMoments.of(b, shape[0], shape[1], true);
            float[][] scalar = ChannelMoments.of(b, shape[0], shape[1], false);
            assertArrayEquals(scalar[0], simd[0], shape[0] + " x " + shape[1] + " mean");
            assertArrayEquals(scalar[1], simd[1], shape[0] + " x " + shape[1] + " var");
        }
    }

    @Test
    void meanAndBiasedVarianceMatchADoublePrecisionReference() {
        int rows = 11648;
        int channels = 64;
        // a large offset against a small spread: E[x^2] - E[x]^2 in float would lose it
        float[] v = random(rows, channels, 100, 0.01, 7);
        float[][] got = ChannelMoments.of(matrix(v), rows, channels);
        for (int c = 0; c < channels; c++) {
            double m = 0;
            for (int r = 0; r < rows; r++) {
                m += v[r * channels + c];
            }
            m /= rows;
            double var = 0;
            for (int r = 0; r < rows; r++) {
                double d = v[r * channels + c] - m;
                var += d * d;
            }
            var /= rows;
            assertEquals(m, got[0][c], Math.abs(m) * 1e-6, "mean of channel " + c);
            assertEquals(var, got[1][c], var * 1e-3, "variance of channel " + c);
        }
    }

    @Test
    void aTensorsAliasedBufferGivesTorchsBatchStatistics() {
        Torch.init();
        try (NDManager m = NDManager.newBaseManager()) {
            int rows = 3000;
            int channels = 48;
            NDArray x = m.create(random(rows, channels, 0.3, 1.5, 3)).reshape(rows, channels);
            float[][] got = ChannelMoments.of(x.toByteBuffer(true), rows, channels);
            float[] mean = x.mean(new int[] {0}).toFloatArray();
            float[] var = x.sub(x.mean(new int[] {0})).square().mean(new int[] {0}).toFloatArray();
            for (int c = 0; c < channels; c++) {
                assertEquals(mean[c], got[0][c], 1e-5, "mean of channel " + c);
                assertEquals(var[c], got[1][c], 1e-5 * var[c], "variance of channel " + c);
            }
        }
    }

    @Test
    void aBufferTooSmallForTheShapeIsRefusedWithBothSizes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChannelMoments.of(matrix(new float[10]), 3, 4));
        assertTrue(e.getMessage().contains("3 x 4") && e.getMessage().contains("40 bytes"), e.getMessage());
    }
}
