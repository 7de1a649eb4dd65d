package siameseim.model.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The widening of F16, BF16 and F64 tensors to float32, checked against the formats' definitions. */
class SafetensorsWidenTest {

    @Test
    void everyHalfValueIsItsBinary16Value() {
        for (int bits = 0; bits < 1 << 16; bits++) {
            int sign = bits >>> 15;
            int exp = (bits >>> 10) & 0x1f;
            int mant = bits & 0x3ff;
            float got = Safetensors.halfToFloat((short) bits);
            if (exp == 0x1f) {
                assertTrue(mant == 0 ? Float.isInfinite(got) : Float.isNaN(got), Integer.toHexString(bits));
                continue;
            }
            double magnitude = exp == 0 ? Math.scalb((double) mant, -24) : Math.scalb(1 + mant / 1024.0, exp - 15);
            assertEquals(sign == 1 ? -magnitude : magnitude, got, 0.0, Integer.toHexString(bits));
            assertEquals(sign, Float.floatToRawIntBits(got) >>> 31, "the sign of " + Integer.toHexString(bits));
        }
    }

    @Test
    void bfloatAndDoubleWidenToTheirValues() {
        ByteBuffer bf = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x3f80)
                .putShort((short) 0xc0a0).putShort((short) 0x7f80).flip();
        ByteBuffer out = Safetensors.widen(bf, DataType.BFLOAT16);
        assertEquals(1f, out.getFloat(0));
        assertEquals(-5f, out.getFloat(4));
        assertEquals(Float.POSITIVE_INFINITY, out.getFloat(8));
        ByteBuffer d = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).putDouble(-3.5).flip();
        out = Safetensors.widen(d, DataType.FLOAT64);
        assertEquals(0.1f, out.getFloat(0));
        assertEquals(-3.5f, out.getFloat(4));
    }
}
