package siameseim.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;
import siameseim.collective.LocalGroup;
import siameseim.model.nn.Torch;

/** The statistics reduction over a real two-rank collective on loopback. */
class CollectiveReductionTest {

    private record Outcome(float[] mean, float[] var, float[] average, int operations) {}

    /**
     * One exchange per BatchNorm layer gives the global moments of equal-sized local batches
     * (mean of means; mean of variances plus the spread of the means), and the average of a
     * tensor is the element-wise mean; every rank gets the same bits.
     */
    @Test
    void momentsAndAveragesAreTheGlobalBatchsOnEveryRank() throws Exception {
        Torch.init(1);
        try (LocalGroup g = new LocalGroup(2, 30_000)) {
            List<Outcome> out = g.onAll(col -> {
                int r = col.rank();
                try (NDManager m = NDManager.newBaseManager()) {
                    CollectiveReduction.Statistics s = CollectiveReduction.statistics(col);
                    int before = col.operations();
                    float[][] moments = s.moments(values(8, 0.3f * (r + 1)), values(8, 2f + r));
                    int operations = col.operations() - before;
                    NDArray avg = s.average(m.create(values(300, 1.7f + r), new Shape(10, 30)));
                    assertEquals(new Shape(10, 30), avg.getShape());
                    return new Outcome(moments[0], moments[1], avg.toFloatArray(), operations);
                }
            });
            float[] m0 = values(8, 0.3f);
            float[] m1 = values(8, 0.6f);
            float[] v0 = values(8, 2f);
            float[] v1 = values(8, 3f);
            for (Outcome o : out) {
                assertEquals(1, o.operations(), "one exchange for a layer's moments");
                assertArrayEquals(out.get(0).mean(), o.mean(), "every rank has the same bits");
                assertArrayEquals(out.get(0).var(), o.var());
                assertArrayEquals(out.get(0).average(), o.average());
            }
            for (int k = 0; k < 8; k++) {
                double mean = (m0[k] + (double) m1[k]) / 2;
                double var = (v0[k] + Math.pow(m0[k] - mean, 2) + v1[k] + Math.pow(m1[k] - mean, 2)) / 2;
                assertEquals(mean, out.get(0).mean()[k], 1e-6);
                assertEquals(var, out.get(0).var()[k], 1e-5);
            }
            float[] a = values(300, 1.7f);
            float[] b = values(300, 2.7f);
            for (int i = 0; i < a.length; i++) {
                assertEquals((a[i] + b[i]) * 0.5f, out.get(0).average()[i]);
            }
        }
    }

    private static float[] values(int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) Math.sin(i * 0.37 + scale) * scale;
        }
        return v;
    }
}
