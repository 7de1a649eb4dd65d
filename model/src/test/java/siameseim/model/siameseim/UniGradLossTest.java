package siameseim.model.siameseim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import siameseim.model.nn.Torch;

/** Spec 3 test vectors and 8.3 check 4 (order invariance). */
class UniGradLossTest {
    private static NDManager m;

    @BeforeAll
    static void init() {
        Torch.init(1);
        m = NDManager.newBaseManager();
    }

    @AfterAll
    static void close() {
        m.close();
    }

    private static UniGradLoss.Result loss(float[] p, float[] t, int tokens, int width) {
        UniGradLoss l = new UniGradLoss(m, width, 0.02);
        return l.compute(m.create(p, new Shape(1, tokens, width)), m.create(t, new Shape(1, tokens, width)));
    }

    @Test
    void twoByTwoVector() {
        UniGradLoss.Result r = loss(new float[] {0, 1, 1, 0}, new float[] {1, 3, 2, 0}, 2, 2);
        assertEquals(0.99999000, r.pos().getFloat(), 1e-6);
        assertEquals(0.99999000, r.neg().getFloat(), 1e-6);
        assertEquals(0.50999490, r.loss().getFloat(), 1e-6);
    }

    @Test
    void twoByThreeVector() {
        UniGradLoss.Result r = loss(new float[] {0.5f, -1, 2, 0, 0.3f, -0.2f}, new float[] {1, 2, 4, 3, -1, 0}, 2, 3);
        assertEquals(3.50036909, r.pos().getFloat(), 1e-5);
        assertEquals(1.68294309, r.neg().getFloat(), 1e-5);
        assertEquals(1.17800932, r.loss().getFloat(), 1e-6);
    }

    @Test
    void lossDoesNotDependOnTokenOrder() {
        float[] p = {0.5f, -1, 2, 0, 0.3f, -0.2f, 1, 1, 1};
        float[] t = {1, 2, 4, 3, -1, 0, 0.5f, 0.1f, -2};
        float[] p2 = {1, 1, 1, 0.5f, -1, 2, 0, 0.3f, -0.2f};
        float[] t2 = {0.5f, 0.1f, -2, 1, 2, 4, 3, -1, 0};
        assertEquals(loss(p, t, 3, 3).loss().getFloat(), loss(p2, t2, 3, 3).loss().getFloat(), 1e-6);
    }
}
