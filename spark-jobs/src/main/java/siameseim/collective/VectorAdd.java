package siameseim.collective;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** The Vector API path of {@link FloatAdd}; only loaded when jdk.incubator.vector is present. */
final class VectorAdd {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorAdd() {}

    static boolean works() {
        ByteBuffer a = ByteBuffer.allocateDirect(4 * 37).order(ByteOrder.nativeOrder());
        ByteBuffer b = ByteBuffer.allocateDirect(4 * 37).order(ByteOrder.nativeOrder());
        for (int i = 0; i < 37; i++) {
            a.putFloat(i * 4, i);
            b.putFloat(i * 4, 1);
        }
        add(a, b, 37);
        return a.getFloat(36 * 4) == 37f && a.getFloat(0) == 1f;
    }

    /** dst = copy = dst + src, in one pass. */
    static void addAndCopy(ByteBuffer dst, ByteBuffer src, ByteBuffer copy, int floats) {
        ByteOrder o = ByteOrder.nativeOrder();
        int d0 = dst.position();
        int s0 = src.position();
        int c0 = copy.position();
        int bytes = floats * 4;
        int step = S.vectorByteSize();
        int i = 0;
        for (; i + step <= bytes; i += step) {
            FloatVector sum = FloatVector.fromByteBuffer(S, dst, d0 + i, o)
                    .add(FloatVector.fromByteBuffer(S, src, s0 + i, o));
            sum.intoByteBuffer(dst, d0 + i, o);
            sum.intoByteBuffer(copy, c0 + i, o);
        }
        ByteBuffer d = dst.duplicate().order(o);
        ByteBuffer s = src.duplicate().order(o);
        ByteBuffer c = copy.duplicate().order(o);
        for (; i < bytes; i += 4) {
            float v = d.getFloat(d0 + i) + s.getFloat(s0 + i);
            d.putFloat(d0 + i, v);
            c.putFloat(c0 + i, v);
        }
    }

    static void add(ByteBuffer dst, ByteBuffer src, int floats) {
        ByteOrder o = ByteOrder.nativeOrder();
        int d0 = dst.position();
        int s0 = src.position();
        int bytes = floats * 4;
        int step = S.vectorByteSize();
        int i = 0;
        for (; i + step <= bytes; i += step) {
            FloatVector x = FloatVector.fromByteBuffer(S, src, s0 + i, o);
            FloatVector y = FloatVector.fromByteBuffer(S, dst, d0 + i, o);
            y.add(x).intoByteBuffer(dst, d0 + i, o);
        }
        for (; i < bytes; i += 4) {
            dst.putFloat(d0 + i, dst.getFloat(d0 + i) + src.getFloat(s0 + i));
        }
    }
}
