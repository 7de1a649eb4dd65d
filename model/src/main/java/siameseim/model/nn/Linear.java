package siameseim.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/** y = x W^T + b on the last axis; weight (out, in) as in PyTorch, xavier_uniform, bias 0. */
public final class Linear extends Module {
    private final Param weight;
    private final Param bias;

    public Linear(NDManager m, SplittableRandom rng, int in, int out) {
        weight = param("weight", Init.xavierUniform(m, rng, new Shape(out, in), in, out), Param.Kind.TRAINABLE);
        bias = param("bias", m.zeros(new Shape(out)), Param.Kind.TRAINABLE);
    }

    /** A layer with the given initial weight (out, in) and bias (out). */
    public Linear(NDArray weight, NDArray bias) {
        this.weight = param("weight", weight, Param.Kind.TRAINABLE);
        this.bias = param("bias", bias, Param.Kind.TRAINABLE);
    }

    public NDArray forward(NDArray x) {
        return x.getNDArrayInternal().linear(x, weight.array(), bias.array()).singletonOrThrow();
    }

    public Param weight() {
        return weight;
    }

    public Param bias() {
        return bias;
    }
}
