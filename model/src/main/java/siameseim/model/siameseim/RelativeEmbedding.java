package siameseim.model.siameseim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import siameseim.model.vit.SinCos;

/**
 * SiameseIM's relative query embedding (spec 2.4): for every view-2 patch (r, c), where its
 * centre lies in view 1's patch-index frame, plus the relative log-scale, as 8 sin-cos blocks of
 * F = Dd/4 frequencies (2 Dd values):
 *
 * <pre>
 *   y_r = di G + s_h (r + 0.5) - 0.5
 *   x_c = dj G + s_w (c + 0.5) - 0.5          (no relative flip)
 *   x_c = dj_flip G - s_w (c + 0.5) - 0.5     (relative flip)
 *   e_rc = [sin/cos(y_r w), sin/cos(x_c w), sin/cos(10 ln s_h w), sin/cos(10 ln s_w w)]
 * </pre>
 *
 * It is input data: computed without gradient, float64 inside, float32 out.
 */
public final class RelativeEmbedding {
    private RelativeEmbedding() {}

    /**
     * @param geometry (B, 6) rows [di, dj, s_h, s_w, relative_flip (0/1), dj_flip] (spec 1.2)
     * @return (B, grid^2, 2 width) float32, queries in raster order
     */
    public static NDArray embed(NDArray geometry, int grid, int width) {
        NDManager m = geometry.getManager();
        long b = geometry.getShape().get(0);
        int half = width / 2;
        try (NDManager tmp = m.newSubManager()) {
            NDArray g = geometry.toType(DataType.FLOAT64, true);
            g.attach(tmp);
            NDArray di = g.get(":, 0").expandDims(1);
            NDArray dj = g.get(":, 1").expandDims(1);
            NDArray sh = g.get(":, 2");
            NDArray sw = g.get(":, 3");
            NDArray flip = g.get(":, 4").expandDims(1).gt(0.5);
            NDArray djFlip = g.get(":, 5").expandDims(1);
            NDArray centres = tmp.arange(0, grid, 1, DataType.FLOAT64).add(0.5).expandDims(0);
            NDArray y = di.mul(grid).add(sh.expandDims(1).mul(centres)).sub(0.5);
            NDArray swc = sw.expandDims(1).mul(centres);
            NDArray xPlain = dj.mul(grid).add(swc).sub(0.5);
            NDArray xFlip = djFlip.mul(grid).sub(swc).sub(0.5);
            NDArray x = NDArrays.where(flip.broadcast(new Shape(b, grid)), xFlip, xPlain);
            Shape full = new Shape(b, grid, grid, half);
            NDArray ey = SinCos.embed1d(y, half).expandDims(2).broadcast(full);
            NDArray ex = SinCos.embed1d(x, half).expandDims(1).broadcast(full);
            NDArray eh = SinCos.embed1d(sh.log().mul(10), half).expandDims(1).expandDims(1).broadcast(full);
            NDArray ew = SinCos.embed1d(sw.log().mul(10), half).expandDims(1).expandDims(1).broadcast(full);
            NDArray e = NDArrays.concat(new NDList(ey, ex, eh, ew), -1)
                    .reshape(b, (long) grid * grid, 2L * width)
                    .toType(DataType.FLOAT32, true);
            e.attach(m);
            return e;
        }
    }
}
