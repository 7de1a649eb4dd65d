package siameseim.model.optim;

import ai.djl.ndarray.NDArray;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import siameseim.model.nn.Param;

/**
 * Copies every trainable gradient into one direct float buffer and back, for a
 * {@link GradientReducer}. On CPU, {@code toByteBuffer(true)} of a contiguous tensor aliases its
 * storage, so each direction is one memcpy per tensor; writes are checked once by reading back.
 */
public final class FlatGradients {
    private final List<Param> params = new ArrayList<>();
    private final long[] offsets;
    private final ByteBuffer bytes;
    private final FloatBuffer flat;
    private Boolean aliasWorks;

    public FlatGradients(Map<String, Param> trainable) {
        params.addAll(trainable.values());
        offsets = new long[params.size() + 1];
        for (int i = 0; i < params.size(); i++) {
            offsets[i + 1] = offsets[i] + params.get(i).array().size();
        }
        bytes = ByteBuffer.allocateDirect(Math.toIntExact(offsets[params.size()] * 4)).order(ByteOrder.nativeOrder());
        flat = bytes.asFloatBuffer();
    }

    /** Number of floats. */
    public int size() {
        return flat.capacity();
    }

    /** The buffer as floats (position 0, full limit). */
    public FloatBuffer buffer() {
        flat.clear();
        return flat;
    }

    /** The same buffer as native-order bytes (position 0, full limit). */
    public ByteBuffer bytes() {
        bytes.clear();
        return bytes;
    }

    /** Gradients -> buffer. */
    public FloatBuffer gather() {
        flat.clear();
        for (Param p : params) {
            try (NDArray g = p.array().getGradient()) {
                flat.put(g.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer());
            }
        }
        flat.clear();
        return flat;
    }

    /** Buffer -> gradients. */
    public void scatter() {
        for (int i = 0; i < params.size(); i++) {
            FloatBuffer src = flat.duplicate();
            src.position((int) offsets[i]).limit((int) offsets[i + 1]);
            try (NDArray g = params.get(i).array().getGradient()) {
                write(g, src);
            }
        }
    }

    private void write(NDArray g, FloatBuffer src) {
        if (aliasWorks == null || aliasWorks) {
            g.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer().put(src.duplicate());
            if (aliasWorks == null) {
                // DJL returns a copy (writes lost) for non-contiguous or device tensors
                float[] expect = new float[src.remaining()];
                src.duplicate().get(expect);
                aliasWorks = java.util.Arrays.equals(g.toFloatArray(), expect);
            }
            if (aliasWorks) {
                return;
            }
        }
        float[] values = new float[src.remaining()];
        src.duplicate().get(values);
        try (NDArray v = g.getManager().create(values, g.getShape())) {
            g.muli(0).addi(v);
        }
    }
}
