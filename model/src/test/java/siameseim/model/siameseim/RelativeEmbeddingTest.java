package siameseim.model.siameseim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import siameseim.model.nn.Torch;
import siameseim.model.vit.SinCos;

/** Spec 8.3 checks 1-3: the relative query embedding. */
class RelativeEmbeddingTest {
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

    private static float[] token(NDArray e, int sample, int token) {
        return e.get(new NDIndex("{}, {}, :", sample, token)).toFloatArray();
    }

    @Test
    void specTestVectorDd8Grid2() {
        // di 0.25, dj -0.5, s_h 0.5, s_w 2, no flip (dj_flip unused)
        NDArray geo = m.create(new float[] {0.25f, -0.5f, 0.5f, 2f, 0f, 1.5f}, new ai.djl.ndarray.types.Shape(1, 6));
        NDArray e = RelativeEmbedding.embed(geo, 2, 8);
        assertEquals(new ai.djl.ndarray.types.Shape(1, 4, 16), e.getShape());
        float[] expected = {0.247404f, 0.0025f, 0.968912f, 0.999997f, -0.479426f, -0.005f, 0.877583f, 0.999987f,
            -0.603821f, -0.069259f, 0.797120f, 0.997599f, 0.603821f, 0.069259f, 0.797120f, 0.997599f};
        assertArrayEquals(expected, token(e, 0, 0), 1e-6f);
        // y = [0.25, 0.25, 0.75, 0.75], x = [-0.5, 1.5, -0.5, 1.5] in raster order
        float[] ys = {0.25f, 0.25f, 0.75f, 0.75f};
        float[] xs = {-0.5f, 1.5f, -0.5f, 1.5f};
        for (int t = 0; t < 4; t++) {
            float[] v = token(e, 0, t);
            assertEquals(Math.sin(ys[t]), v[0], 1e-6);
            assertEquals(Math.sin(xs[t]), v[4], 1e-6);
        }
    }

    @Test
    void relativeFlipMirrorsColumns() {
        NDArray geo = m.create(new float[] {0.25f, -0.5f, 0.5f, 2f, 1f, 1.5f}, new ai.djl.ndarray.types.Shape(1, 6));
        NDArray e = RelativeEmbedding.embed(geo, 2, 8);
        float[] xs = {1.5f, -0.5f, 1.5f, -0.5f};
        for (int t = 0; t < 4; t++) {
            float[] v = token(e, 0, t);
            assertEquals(Math.sin(xs[t]), v[4], 1e-6, "token " + t);
            assertEquals(Math.cos(xs[t] * 0.01), v[7], 1e-6, "token " + t);
        }
    }

    @Test
    void identityGeometryEqualsTheFixedTableAndZeroScaleTerms() {
        int grid = 4;
        int dd = 16;
        NDArray geo = m.create(new float[] {0f, 0f, 1f, 1f, 0f, 1f}, new ai.djl.ndarray.types.Shape(1, 6));
        NDArray e = RelativeEmbedding.embed(geo, grid, dd);
        NDArray table = SinCos.table2d(m, dd, grid);
        for (int t = 0; t < grid * grid; t++) {
            float[] v = token(e, 0, t);
            float[] row = table.get(new NDIndex("0, {}, :", t + 1)).toFloatArray();
            for (int k = 0; k < dd; k++) {
                assertEquals(row[k], v[k], 1e-6, "token " + t + " entry " + k);
            }
            int f = dd / 4;
            for (int k = 0; k < f; k++) {
                assertEquals(0f, v[dd + k], 1e-7); // sin(10 ln 1 w) of s_h
                assertEquals(1f, v[dd + f + k], 1e-7); // cos
                assertEquals(0f, v[dd + 2 * f + k], 1e-7); // sin of s_w
                assertEquals(1f, v[dd + 3 * f + k], 1e-7);
            }
        }
    }

    @Test
    void fullImageCropsWithRelativeFlipGiveMirroredColumns() {
        // both crops the whole image (j1 = j2 = 0, w = W): dj_flip = (W - 0 - 0) / W = 1
        int grid = 4;
        NDArray geo = m.create(new float[] {0f, 0f, 1f, 1f, 1f, 1f}, new ai.djl.ndarray.types.Shape(1, 6));
        NDArray e = RelativeEmbedding.embed(geo, grid, 8);
        for (int r = 0; r < grid; r++) {
            for (int c = 0; c < grid; c++) {
                float[] v = token(e, 0, r * grid + c);
                assertEquals(Math.sin(grid - 1 - c), v[4], 1e-6, "x_c = G - 1 - c at " + r + "," + c);
                assertEquals(Math.sin(r), v[0], 1e-6);
            }
        }
    }
}
