package siameseim.train;

import java.util.SplittableRandom;
import siameseim.config.PretrainConfig;
import siameseim.batch.SiameseBatch;

/**
 * Seeded model-input batches without a data pipeline, for the step benchmark and model tests:
 * smooth random images (a few low-frequency waves per channel), view 2 a shifted copy of view 1's
 * pattern, a random set of visible patches (as many as mask.count leaves; the model needs only
 * their indices, the block shape of real masks is the data pipeline's, spec 1.3) and valid
 * geometry. Real batches come from the datasets module.
 */
public final class SyntheticBatches {
    private SyntheticBatches() {}

    public static SiameseBatch batch(PretrainConfig cfg, int size, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int img = cfg.model().imageSize();
        int grid = cfg.model().grid();
        int lv = grid * grid - cfg.mask().count();
        float[] v1 = new float[size * 3 * img * img];
        float[] v2 = new float[v1.length];
        long[] vis = new long[size * lv];
        float[] geo = new float[size * 6];
        for (int b = 0; b < size; b++) {
            double[][] waves = new double[3][8];
            for (double[] w : waves) {
                for (int k = 0; k < w.length; k++) {
                    w[k] = rng.nextDouble() * 2 - 1;
                }
            }
            double shift = rng.nextDouble() * 0.3;
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < img; y++) {
                    for (int x = 0; x < img; x++) {
                        int i = ((b * 3 + c) * img + y) * img + x;
                        v1[i] = (float) pattern(waves[c], x / (double) img, y / (double) img);
                        v2[i] = (float) pattern(waves[c], x / (double) img + shift, y / (double) img);
                    }
                }
            }
            long[] visible = visiblePatches(grid * grid, lv, rng);
            System.arraycopy(visible, 0, vis, b * lv, lv);
            boolean flip = rng.nextBoolean();
            geo[b * 6] = (float) (rng.nextDouble() * 0.4 - 0.2);
            geo[b * 6 + 1] = (float) shift;
            geo[b * 6 + 2] = (float) (0.7 + rng.nextDouble() * 0.6);
            geo[b * 6 + 3] = (float) (0.7 + rng.nextDouble() * 0.6);
            geo[b * 6 + 4] = flip ? 1f : 0f;
            geo[b * 6 + 5] = (float) (rng.nextDouble() * 0.5);
        }
        return new SiameseBatch(size, img, v1, v2, vis, lv, geo);
    }

    /** {@code count} distinct patch indices of {@code tokens}, in raster order. */
    private static long[] visiblePatches(int tokens, int count, SplittableRandom rng) {
        int[] order = new int[tokens];
        for (int i = 0; i < tokens; i++) {
            order[i] = i;
        }
        for (int i = 0; i < count; i++) {
            int j = i + rng.nextInt(tokens - i);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return java.util.Arrays.stream(order, 0, count).sorted().asLongStream().toArray();
    }

    private static double pattern(double[] w, double x, double y) {
        return w[0] * Math.sin(6.28 * (w[1] * 2 * x + w[2] * 2 * y) + w[3] * 3)
                + w[4] * Math.cos(6.28 * (w[5] * 3 * x - w[6] * 3 * y)) + w[7];
    }
}
