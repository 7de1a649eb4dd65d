package siameseim.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;
import siameseim.collective.LocalGroup;
import siameseim.model.nn.CrossReplicaMean;
import siameseim.model.nn.Torch;

/** The statistics reduction over a real two-rank collective on loopback. */
class CollectiveReductionTest {

    private record Outcome(float[] carried, float[] alone, float[] mean, float[] var, int operations) {}

    /**
     * A deferred mean carried by the next moments exchange costs no operation of its own and has
     * the bits of a mean exchanged alone; the moments are unchanged by what rides along; a
     * deferred mean needed before any exchange goes on its own.
     */
    @Test
    void deferredMeanRidesWithTheNextMomentsExchange() throws Exception {
        Torch.init(1);
        try (LocalGroup g = new LocalGroup(2, 30_000)) {
            List<Outcome> out = g.onAll(col -> {
                int r = col.rank();
                try (NDManager m = NDManager.newBaseManager()) {
                    CollectiveReduction.Statistics s = CollectiveReduction.statistics(col);
                    NDArray corr = m.create(values(300, 1.7f + r), new Shape(10, 30));
                    float[] mean = values(8, 0.3f * (r + 1));
                    float[] var = values(8, 2f + r);
                    int before = col.operations();
                    CrossReplicaMean.Deferred later = s.averageLater(corr);
                    float[][] moments = s.moments(mean, var);
                    float[] carried = later.get().toFloatArray();
                    int operations = col.operations() - before;
                    float[][] plain = s.moments(mean, var);
                    assertArrayEquals(plain[0], moments[0]);
                    assertArrayEquals(plain[1], moments[1]);
                    float[] alone = s.average(corr).toFloatArray();
                    // needed before any exchange: exchanged on its own, same bits
                    assertArrayEquals(alone, s.averageLater(corr).get().toFloatArray());
                    assertEquals(new Shape(10, 30), later.get().getShape());
                    return new Outcome(carried, alone, moments[0], moments[1], operations);
                }
            });
            for (Outcome o : out) {
                assertEquals(1, o.operations(), "one exchange for the moments and the deferred mean");
                assertArrayEquals(o.alone(), o.carried());
                assertArrayEquals(out.get(0).carried(), o.carried(), "every rank has the same bits");
                assertArrayEquals(out.get(0).var(), o.var());
            }
            float[] a = values(300, 1.7f);
            float[] b = values(300, 2.7f);
            for (int i = 0; i < a.length; i++) {
                assertEquals((a[i] + b[i]) * 0.5f, out.get(0).carried()[i]);
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
