package siameseim.collective;

import siameseim.host.Simd;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * dst += src on native-order float buffers. With the incubating Vector API available
 * ({@code --add-modules jdk.incubator.vector}, which Spark's launcher and ours pass) the add runs
 * in SIMD registers directly on the direct buffers; otherwise it goes through heap arrays, whose
 * loop the JIT vectorises (one more copy each way; the 2-process all-reduce benchmark measured
 * 5-30 % lower bus bandwidth that way, most at small sizes).
 */
final class FloatAdd {
    private static final boolean VECTOR = Simd.enabled("collective", () -> VectorAdd.works());

    private FloatAdd() {}

    static boolean usesVectorApi() {
        return VECTOR;
    }

    /** dst[0..floats) += src[0..floats), both positioned at their first float. */
    static void add(ByteBuffer dst, ByteBuffer src, int floats, float[] tmpA, float[] tmpB) {
        if (VECTOR) {
            VectorAdd.add(dst, src, floats);
            return;
        }
        addArrays(dst, src, floats, tmpA, tmpB);
    }

    /** dst[0..floats) += src[0..floats), and the sums also to copy[0..floats); all positioned. */
    static void addAndCopy(ByteBuffer dst, ByteBuffer src, ByteBuffer copy, int floats, float[] tmpA, float[] tmpB) {
        if (VECTOR) {
            VectorAdd.addAndCopy(dst, src, copy, floats);
            return;
        }
        addArrays(dst, src, floats, tmpA, tmpB);
        copy.duplicate().put(dst.duplicate().limit(dst.position() + 4 * floats));
    }

    static void addArrays(ByteBuffer dst, ByteBuffer src, int floats, float[] tmpA, float[] tmpB) {
        FloatBuffer in = src.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
        FloatBuffer mine = dst.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (int off = 0; off < floats; off += tmpA.length) {
            int len = Math.min(tmpA.length, floats - off);
            in.get(off, tmpA, 0, len);
            mine.get(off, tmpB, 0, len);
            for (int i = 0; i < len; i++) {
                tmpB[i] += tmpA[i];
            }
            mine.put(off, tmpB, 0, len);
        }
    }
}
