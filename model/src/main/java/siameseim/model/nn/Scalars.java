package siameseim.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Arithmetic with a scalar that is safe inside an autograd graph.
 *
 * <p>Why: DJL's {@code NDArray.mul(Number)} (and add/sub/div) wraps the scalar in a tensor over a
 * Java direct buffer and closes it as soon as the op returns. When autograd saved that scalar for
 * the backward pass (mul and div do), the buffer can be garbage-collected before backward reads
 * it, and the gradients upstream of the op turn into garbage or NaN, depending on GC timing
 * (docs/djl-notes.md). Here the scalar is a tensor that libtorch allocates and reference-counts.
 */
public final class Scalars {
    private Scalars() {}

    private static NDArray scalar(NDArray like, double value) {
        return like.getManager().full(new Shape(), (float) value, like.getDataType(), like.getDevice());
    }

    public static NDArray mul(NDArray x, double value) {
        try (NDArray s = scalar(x, value)) {
            return x.mul(s);
        }
    }

    /**
     * {@code x * value} with the factor a FLOAT32 tensor: a 0-dim fp16 {@code x} (a loss computed
     * under autocast) is promoted to fp32, as {@code loss * scale} is in PyTorch's GradScaler, so a
     * loss scale above fp16's largest value (65 504) does not overflow.
     */
    public static NDArray mulFp32(NDArray x, double value) {
        try (NDArray s = x.getManager().full(new Shape(), (float) value, ai.djl.ndarray.types.DataType.FLOAT32,
                x.getDevice())) {
            return x.mul(s);
        }
    }

    public static NDArray div(NDArray x, double value) {
        try (NDArray s = scalar(x, value)) {
            return x.div(s);
        }
    }

    public static NDArray add(NDArray x, double value) {
        try (NDArray s = scalar(x, value)) {
            return x.add(s);
        }
    }
}
