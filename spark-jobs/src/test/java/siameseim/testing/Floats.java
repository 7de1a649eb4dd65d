package siameseim.testing;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/** Float buffers for the collective's tests: seeded Gaussian values, and a buffer's floats. */
public final class Floats {
    private Floats() {}

    public static ByteBuffer randomFloats(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        ByteBuffer b = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder());
        for (int i = 0; i < n; i++) {
            b.putFloat(i * 4, (float) rng.nextGaussian());
        }
        return b;
    }

    public static float[] floats(ByteBuffer b) {
        float[] f = new float[b.capacity() / 4];
        b.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer().get(f);
        return f;
    }
}
