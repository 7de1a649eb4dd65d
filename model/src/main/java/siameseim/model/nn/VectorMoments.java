package siameseim.model.nn;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API path of {@link ChannelMoments}; only loaded when jdk.incubator.vector is
 * present. Each method handles the channels up to a whole number of vectors and returns where
 * the scalar loop takes over. One loop per method, with nothing but Vector API calls in it (a
 * helper method taking vectors gets them boxed once it is compiled on its own).
 */
final class VectorMoments {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorMoments() {}

    static int lanes() {
        return S.length();
    }

    static int sums(ByteBuffer d, int r0, int r1, int channels, float[] acc) {
        int end = S.loopBound(channels);
        for (int r = r0; r < r1; r++) {
            int base = r * channels * 4;
            for (int c = 0; c < end; c += S.length()) {
                FloatVector.fromArray(S, acc, c)
                        .add(FloatVector.fromByteBuffer(S, d, base + 4 * c, ByteOrder.nativeOrder()))
                        .intoArray(acc, c);
            }
        }
        return end;
    }

    static int squares(ByteBuffer d, int r0, int r1, int channels, float[] centre, float[] acc) {
        int end = S.loopBound(channels);
        for (int r = r0; r < r1; r++) {
            int base = r * channels * 4;
            for (int c = 0; c < end; c += S.length()) {
                FloatVector dev = FloatVector.fromByteBuffer(S, d, base + 4 * c, ByteOrder.nativeOrder())
                        .sub(FloatVector.fromArray(S, centre, c));
                FloatVector.fromArray(S, acc, c).add(dev.mul(dev)).intoArray(acc, c);
            }
        }
        return end;
    }
}
