package siameseim.model.nn;

import ai.djl.ndarray.NDArray;

/**
 * One named tensor of a model. Trainable tensors carry a gradient; frozen ones (the patch
 * embedding in pretraining, fixed sin-cos tables) and buffers (BatchNorm running statistics) do
 * not. The weight-decay flag and the lr multiplier are set by the optimiser's rules.
 */
public final class Param {
    /** What the optimiser and the EMA do with a tensor. */
    public enum Kind {
        TRAINABLE,
        FROZEN,
        BUFFER
    }

    private final String name;
    private NDArray array;
    private Kind kind;

    Param(String name, NDArray array, Kind kind) {
        this.name = name;
        this.array = array;
        setKind(kind);
    }

    /** The local name within its module ("weight", "running_mean", "cls_token"). */
    public String name() {
        return name;
    }

    public NDArray array() {
        return array;
    }

    public Kind kind() {
        return kind;
    }

    public boolean trainable() {
        return kind == Kind.TRAINABLE;
    }

    /** Freezes or unfreezes (fine-tuning trains the patch embedding that pretraining froze). */
    public void setKind(Kind kind) {
        this.kind = kind;
        if (kind == Kind.TRAINABLE || array.hasGradient()) {
            array.setRequiresGradient(kind == Kind.TRAINABLE);
        }
    }

    /** Copies {@code values} into this tensor in place (shape must match). */
    public void copyFrom(NDArray values) {
        if (!values.getShape().equals(array.getShape())) {
            throw new IllegalArgumentException("shape mismatch for " + name + ": expected " + array.getShape()
                    + ", got " + values.getShape());
        }
        NDArray fresh = detachedCopy(values, array.getDataType());
        fresh.attach(array.getManager());
        array.close();
        array = fresh;
        if (trainable()) {
            array.setRequiresGradient(true);
        }
    }

    /**
     * A new tensor with its own storage and no autograd history. (DJL's {@code toType(t, true)}
     * returns the same storage when type and device already match, which would alias the two.)
     */
    public static NDArray detachedCopy(NDArray values, ai.djl.ndarray.types.DataType type) {
        try (NDArray detached = values.stopGradient()) {
            NDArray copy = detached.duplicate();
            if (copy.getDataType() == type) {
                return copy;
            }
            try (copy) {
                return copy.toType(type, false);
            }
        }
    }
}
