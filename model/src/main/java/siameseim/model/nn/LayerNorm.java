package siameseim.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** LayerNorm over the last axis (weight 1, bias 0); without affine it has no tensors. */
public final class LayerNorm extends Module implements TokenNorm {
    private final Shape normalized;
    private final float eps;
    private final Param weight;
    private final Param bias;
    private final NDArray ones;
    private final NDArray zeros;

    public LayerNorm(NDManager m, int dim, float eps, boolean affine) {
        this.normalized = new Shape(dim);
        this.eps = eps;
        if (affine) {
            weight = param("weight", m.ones(normalized), Param.Kind.TRAINABLE);
            bias = param("bias", m.zeros(normalized), Param.Kind.TRAINABLE);
            ones = null;
            zeros = null;
        } else {
            weight = null;
            bias = null;
            // DJL's layerNorm needs gamma/beta tensors; constants give the no-affine form
            ones = m.ones(normalized);
            zeros = m.zeros(normalized);
        }
    }

    @Override
    public NDArray forward(NDArray x, boolean training) {
        NDArray g = weight != null ? weight.array() : ones;
        NDArray b = bias != null ? bias.array() : zeros;
        return x.getNDArrayInternal().layerNorm(x, normalized, g, b, eps).singletonOrThrow();
    }

    public NDArray forward(NDArray x) {
        return forward(x, false);
    }
}
