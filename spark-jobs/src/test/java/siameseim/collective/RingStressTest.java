package siameseim.collective;

import static siameseim.testing.Floats.floats;
import static siameseim.testing.Floats.randomFloats;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class RingStressTest {
    @Test
    void smallAndLargeOperationsInterleaved() throws Exception {
        int n = 390_000;
        try (LocalGroup g = new LocalGroup(2, 30_000)) {
            g.ranks.forEach(c -> c.setSharedMemory(false)); // the TCP ring; SharedMemoryTest covers the other path
            List<Integer> bad = g.onAll(c -> {
                int errors = 0;
                for (int it = 0; it < 300; it++) {
                    for (int k = 0; k < 5; k++) {
                        float[] small = new float[128];
                        java.util.Arrays.fill(small, c.rank() + k);
                        float[] m = c.allReduceMean(small);
                        if (m[0] != 0.5f + k || m[127] != 0.5f + k) {
                            errors++;
                        }
                    }
                    ByteBuffer b = randomFloats(n, it * 10L + c.rank());
                    float[] mine = floats(b);
                    float[] other = floats(randomFloats(n, it * 10L + 1 - c.rank()));
                    c.allReduceMean(b);
                    float[] got = floats(b);
                    for (int i = 0; i < n; i++) {
                        float expect = (mine[i] + other[i]) * 0.5f;
                        if (!(Math.abs(got[i] - expect) <= 1e-5f * (1 + Math.abs(expect)))) {
                            errors++;
                            if (errors < 5) {
                                System.out.println("rank " + c.rank() + " iteration " + it + " index " + i + ": "
                                        + got[i] + " expected " + expect);
                            }
                        }
                    }
                }
                return errors;
            });
            assertEquals(List.of(0, 0), bad);
        }
    }

    @Test
    void manyRingAllReducesUnderGcPressureStayExact() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        Thread churn = new Thread(() -> {
            while (!stop.get()) {
                byte[][] junk = new byte[64][];
                for (int i = 0; i < junk.length; i++) {
                    junk[i] = new byte[1 << 16];
                }
                ByteBuffer.allocateDirect(1 << 20);
                if (Math.random() < 0.05) {
                    System.gc();
                }
            }
        });
        churn.setDaemon(true);
        churn.start();
        int n = 390_000;
        try (LocalGroup g = new LocalGroup(2, 30_000)) {
            g.ranks.forEach(c -> c.setSharedMemory(false)); // the TCP ring; SharedMemoryTest covers the other path
            List<Integer> bad = g.onAll(c -> {
                int errors = 0;
                for (int it = 0; it < 150; it++) {
                    ByteBuffer b = randomFloats(n, it * 10L + c.rank());
                    float[] mine = floats(b);
                    float[] other = floats(randomFloats(n, it * 10L + 1 - c.rank()));
                    c.allReduceMean(b);
                    float[] got = floats(b);
                    for (int i = 0; i < n; i++) {
                        float expect = (c.rank() == 0 ? mine[i] + other[i] : other[i] + mine[i]) * 0.5f;
                        if (Math.abs(got[i] - expect) > 1e-5f * (1 + Math.abs(expect)) || Float.isNaN(got[i])) {
                            errors++;
                            if (errors < 5) {
                                System.out.println("rank " + c.rank() + " iteration " + it + " index " + i + ": " + got[i]
                                        + " expected " + expect);
                            }
                        }
                    }
                }
                return errors;
            });
            assertEquals(List.of(0, 0), bad);
        } finally {
            stop.set(true);
        }
    }
}
