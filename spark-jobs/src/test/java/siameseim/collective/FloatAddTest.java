package siameseim.collective;

import static siameseim.testing.Floats.floats;
import static siameseim.testing.Floats.randomFloats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class FloatAddTest {
    @Test
    void simdAndArrayPathsGiveTheSameBits() {
        assertTrue(FloatAdd.usesVectorApi(), "the tests run with jdk.incubator.vector");
        for (int n : new int[] {1, 15, 16, 17, 1000, 65_537}) {
            ByteBuffer a = randomFloats(n, n);
            ByteBuffer b = randomFloats(n, n + 1);
            ByteBuffer a2 = randomFloats(n, n);
            FloatAdd.add(a, b, n, new float[64], new float[64]);
            FloatAdd.addArrays(a2, b, n, new float[64], new float[64]);
            assertArrayEquals(floats(a2), floats(a), "n = " + n);
        }
    }
}
