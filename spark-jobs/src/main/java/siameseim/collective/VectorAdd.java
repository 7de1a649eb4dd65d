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
