package siameseim.model.vit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * The one sin-cos embedding of the product (MAE / MoCo v3 style, spec 2.1 and 2.4).
 *
 * <p>{@link #embed1d}: for positions p and width E, F = E/2 frequencies w_k = 10000^(-k/F),
 * output [sin(p w_0..F-1), cos(p w_0..F-1)]. The fixed 2-D table is [embed1d(row, E/2),
 * embed1d(col, E/2)] with a zero CLS row; the relative query embedding of SiameseIM stacks four
 * such blocks (row, column, 10 ln s_h, 10 ln s_w). Computed in float64, returned as float32.
 */
public final class SinCos {
    private SinCos() {}

    /** positions (any shape, any float type) -> (..., width) float64. */
    public static NDArray embed1d(NDArray positions, int width) {
        if (width % 2 != 0) {
            throw new IllegalArgumentException("sin-cos width must be even, got " + width);
        }
        int f = width / 2;
        NDManager m = positions.getManager();
        NDArray omega = m.arange(0, f, 1, DataType.FLOAT64).div(f).mul(-Math.log(10000.0)).exp();
        NDArray pos = positions.toType(DataType.FLOAT64, false).expandDims(-1);
        NDArray angles = pos.mul(omega);
        return NDArrays.concat(new NDList(angles.sin(), angles.cos()), -1);
    }

    /**
     * The fixed table for a grid x grid patch layout, (1, 1 + grid^2, width) float32, row 0 (CLS)
     * all zeros, rows in raster order (token n = r * grid + c).
     */
    public static NDArray table2d(NDManager m, int width, int grid) {
        try (NDManager tmp = m.newSubManager()) {
            NDArray idx = tmp.arange(0, grid * grid, 1, DataType.FLOAT64);
            NDArray rows = idx.div(grid).floor();
            NDArray cols = idx.sub(rows.mul(grid));
            NDArray table = NDArrays.concat(new NDList(embed1d(rows, width / 2), embed1d(cols, width / 2)), -1);
            NDArray withCls = NDArrays.concat(new NDList(tmp.zeros(new Shape(1, width), DataType.FLOAT64), table), 0);
            NDArray out = withCls.toType(DataType.FLOAT32, true).expandDims(0);
            out.attach(m);
            return out;
        }
    }
}
