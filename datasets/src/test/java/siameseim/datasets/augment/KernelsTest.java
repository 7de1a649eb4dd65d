package siameseim.datasets.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import siameseim.datasets.image.RgbImage;

/** The Vector API kernels give the scalar loops' bits, tails and awkward values included. */
class KernelsTest {
    private static final float[] AWKWARD = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 0f,
        -0.5f, -0.49999997f, 0.49999997f, 0.5f, 1.5f, 2.5f, 254.5f, 254.49998f, 255f, 255.5f, 256f, -1e9f, 1e9f,
        8388607.5f, 8388608f, 1.6777216e7f, -3.4e38f, 3.4e38f, Float.MIN_VALUE};

    /** The kernels' 8-bit rounding alone: one row with weight 1 (0 + 1 * v is v, -0 aside). */
    private static void roundVector(float[] src, float[] dst, int to, int n) {
        VectorKernels.weightedRows(src, new int[] {0}, new float[] {1f}, 1, n, dst, to, true);
    }

    private static void roundScalar(float[] src, float[] dst, int to, int n) {
        Kernels.weightedRowsScalar(src, new int[] {0}, new float[] {1f}, 1, n, dst, to, true, 0);
    }

    /** The test JVM runs with jdk.incubator.vector, so the kernels must take the vector path. */
    @Test
    void vectorPathIsActiveInTheTestJvm() {
        assertTrue(Kernels.usesVectorApi(), "the augmentation kernels fell back to scalar loops although the"
                + " JVM was started with --add-modules=jdk.incubator.vector");
    }

    @Test
    void roundingMatchesClampRoundOnAwkwardAndRandomValues() {
        SplittableRandom rng = new SplittableRandom(3);
        for (int n = 0; n <= 70; n++) {
            float[] src = new float[n];
            for (int i = 0; i < n; i++) {
                src[i] = rng.nextInt(4) == 0 ? AWKWARD[rng.nextInt(AWKWARD.length)]
                        : (float) (rng.nextDouble() * 300 - 20);
            }
            float[] vec = new float[n + 5];
            float[] sca = new float[n + 5];
            roundVector(src, vec, 5, n);
            roundScalar(src, sca, 5, n);
            assertBits(sca, vec);
            for (int i = 0; i < n; i++) {
                assertEquals(RgbImage.clampRound(src[i]), vec[5 + i], "value " + src[i]);
            }
        }
        float[] all = AWKWARD.clone();
        float[] out = new float[all.length];
        roundVector(all, out, 0, all.length);
        for (int i = 0; i < all.length; i++) {
            assertEquals(Float.floatToIntBits(RgbImage.clampRound(all[i])), Float.floatToIntBits(out[i]),
                    "value " + all[i]);
        }
    }

    @Test
    void everyHalfStepFromMinusOneTo257RoundsAlike() {
        int n = (257 + 1) * 64 + 1;
        float[] src = new float[n];
        for (int i = 0; i < n; i++) {
            src[i] = -1f + i / 64f;
        }
        float[] vec = new float[n];
        float[] sca = new float[n];
        roundVector(src, vec, 0, n);
        roundScalar(src, sca, 0, n);
        assertBits(sca, vec);
    }

    @Test
    void weightedRowsAndBlendsMatchTheScalarLoops() {
        SplittableRandom rng = new SplittableRandom(11);
        for (int n = 1; n <= 70; n++) {
            float[] src = random(rng, n + 40);
            int taps = 1 + rng.nextInt(9);
            float[] w = random(rng, taps);
            int[] from = new int[taps];
            for (int t = 0; t < taps; t++) {
                from[t] = rng.nextInt(41);
            }
            for (boolean round : new boolean[] {false, true}) {
                float[] a = random(rng, n + 3);
                float[] b = a.clone();
                VectorKernels.weightedRows(src, from, w, taps, n, a, 3, round);
                Kernels.weightedRowsScalar(src, from, w, taps, n, b, 3, round, 0);
                assertBits(b, a);
            }

            float f = (float) rng.nextDouble(0, 2);
            float[] d = pixels(rng, n);
            float[] e = d.clone();
            VectorKernels.blendRound(d, 117f, f);
            Kernels.blendRoundScalar(e, 117f, f, 0);
            assertBits(e, d);
            VectorKernels.scaleRound(d, f);
            Kernels.scaleRoundScalar(e, f, 0);
            assertBits(e, d);

            float[] na = random(rng, n + 9);
            float[] nb = na.clone();
            float scale = (float) (1 / (255 * rng.nextDouble(0.1, 0.3)));
            float shift = (float) -rng.nextDouble(1, 3);
            VectorKernels.scaleShift(d, 0, na, 9, n, scale, shift);
            Kernels.scaleShiftScalar(d, 0, nb, 9, n, scale, shift, 0);
            assertBits(nb, na);
        }
    }

    @Test
    void resamplingPassesMatchTheScalarLoops() {
        // up to 40 rows: whole and partial strips of S.length() rows; kernels of 1 to 9 taps
        SplittableRandom rng = new SplittableRandom(12);
        for (int n = 1; n <= 70; n++) {
            int rows = 1 + rng.nextInt(40);
            float[] src = pixels(rng, 40 + rows * 200);
            int[] start = new int[n];
            float[][] weights = new float[n][];
            int lo = Integer.MAX_VALUE;
            int hi = 0;
            for (int x = 0; x < n; x++) {
                weights[x] = random(rng, 1 + rng.nextInt(9));
                start[x] = rng.nextInt(60 - weights[x].length);
                lo = Math.min(lo, start[x]);
                hi = Math.max(hi, start[x] + weights[x].length);
            }
            int step = rng.nextBoolean() ? 1 : -1; // -1: mirrored rows, read from their last pixel
            int[] rowStart = new int[rows];
            for (int r = 0; r < rows; r++) {
                rowStart[r] = 20 + r * 200 + (step < 0 ? 60 : 0);
            }
            float[] a = new float[rows * n];
            float[] b = new float[rows * n];
            VectorKernels.resampleRows(src, rowStart, step, start, weights, lo, hi - lo, a);
            for (int r = 0; r < rows; r++) {
                Kernels.resampleRowScalar(src, rowStart[r], step, start, weights, b, r * n);
            }
            assertBits(b, a);
        }
    }

    @Test
    void hueSaturationGrayscaleAndLumaMatchTheScalarLoops() {
        SplittableRandom rng = new SplittableRandom(5);
        for (int n = 1; n <= 90; n++) {
            float[] d = planes(rng, n);
            float turn = switch (n % 5) {
                case 0 -> 0.5f;
                case 1 -> -0.5f;
                case 2 -> 0f;
                default -> (float) rng.nextDouble(-0.5, 0.5);
            };
            float[] a = d.clone();
            float[] b = d.clone();
            VectorKernels.hue(a, n, turn);
            Kernels.hueScalar(b, n, turn, 0);
            assertBits(b, a);
            float f = (float) rng.nextDouble(0, 2);
            VectorKernels.saturate(a, n, f);
            Kernels.saturateScalar(b, n, f, 0);
            assertBits(b, a);
            assertEquals(Kernels.lumaSumScalar(a, n, 0, 0), VectorKernels.lumaSum(a, n));
            VectorKernels.grayscale(a, n);
            Kernels.grayscaleScalar(b, n, 0);
            assertBits(b, a);
        }
    }

    @Test
    void lumaSumOfALargePlaneIsExact() {
        SplittableRandom rng = new SplittableRandom(8);
        int n = 301 * 299;
        float[] d = planes(rng, n);
        assertEquals(Kernels.lumaSumScalar(d, n, 0, 0), VectorKernels.lumaSum(d, n));
        java.util.Arrays.fill(d, 255f);
        assertEquals(255.0 * n, VectorKernels.lumaSum(d, n));
    }

    /** Three planes of 8-bit values; many grey, saturated or tied pixels, as real images have. */
    private static float[] planes(SplittableRandom rng, int n) {
        float[] d = new float[3 * n];
        for (int i = 0; i < n; i++) {
            int kind = rng.nextInt(6);
            float r = rng.nextInt(256);
            float g = kind == 0 ? r : rng.nextInt(256);
            float b = kind <= 1 ? g : kind == 2 ? r : rng.nextInt(256);
            if (kind == 3) {
                r = 255;
                b = 0;
            }
            d[i] = r;
            d[n + i] = g;
            d[2 * n + i] = b;
        }
        return d;
    }

    private static float[] random(SplittableRandom rng, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rng.nextDouble(-300, 300);
        }
        return a;
    }

    private static float[] pixels(SplittableRandom rng, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = rng.nextInt(256);
        }
        return a;
    }

    private static void assertBits(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(actual[i]),
                    "element " + i + ": " + expected[i] + " vs " + actual[i]);
        }
    }
}
