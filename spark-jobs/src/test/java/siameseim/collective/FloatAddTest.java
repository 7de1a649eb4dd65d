package siameseim.collective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class FloatAddTest {
    @Test
    void simdAndArrayPathsGiveTheSameBits() {
        assertTrue(FloatAdd.usesVectorApi(), "the tests run with jdk.incubator.vector");
        for (int n : new int[] {1, 15, 16, 17, 1000, 65_537}) {
            ByteBuffer a = CollectiveTest.randomFloats(n, n);
            ByteBuffer b = CollectiveTest.randomFloats(n, n + 1);
            ByteBuffer a2 = CollectiveTest.randomFloats(n, n);
            FloatAdd.add(a, b, n, new float[64], new float[64]);
            FloatAdd.addArrays(a2, b, n, new float[64], new float[64]);
            assertArrayEquals(CollectiveTest.floats(a2), CollectiveTest.floats(a), "n = " + n);
        }
    }
}
