package siameseim.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * Conv2d(3 -> D, kernel = stride = p) flattened to (B, L, D) in raster order; weight (D, 3, p, p),
 * xavier_uniform on its (D, 3 p p) view, bias 0. Its tensors are named {@code proj.*}.
 */
public final class PatchEmbed extends Module {
    private final int patch;
    private final Param weight;
    private final Param bias;

    public PatchEmbed(NDManager m, SplittableRandom rng, int patch, int channels, int dim) {
        this.patch = patch;
        long fanIn = (long) channels * patch * patch;
        weight = param("proj.weight", Init.xavierUniform(m, rng, new Shape(dim, channels, patch, patch), fanIn, dim),
                Param.Kind.TRAINABLE);
        bias = param("proj.bias", m.zeros(new Shape(dim)), Param.Kind.TRAINABLE);
    }

    public NDArray forward(NDArray images) {
        Shape stride = new Shape(patch, patch);
        NDArray y = images.getNDArrayInternal()
                .convolution(images, weight.array(), bias.array(), stride, new Shape(0, 0), new Shape(1, 1), 1)
                .singletonOrThrow();
        long b = y.getShape().get(0);
        long d = y.getShape().get(1);
        return y.reshape(b, d, -1).transpose(0, 2, 1);
    }
}
