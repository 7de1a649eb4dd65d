package siameseim.collective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static siameseim.testing.Floats.floats;
import static siameseim.testing.Floats.randomFloats;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The ring all-reduce as an algorithm over any {@link Link}: over in-memory pipes it gives every
 * rank the same bits, the sum within fp32 rounding, and exactly the bits it gives over TCP.
 */
class RingAllReduceTest {

    @ParameterizedTest
    @CsvSource({"2, 70000", "3, 1000001", "4, 65537", "5, 200003"})
    void sumsOverInMemoryLinksWithTheBitsOfTheTcpRing(int ranks, int n) throws Exception {
        List<float[]> memory = overMemory(ranks, n);
        double[] expect = new double[n];
        for (int r = 0; r < ranks; r++) {
            float[] mine = floats(randomFloats(n, r));
            for (int i = 0; i < n; i++) {
                expect[i] += mine[i];
            }
        }
        for (float[] got : memory) {
            assertArrayEquals(memory.get(0), got, "every rank has the same bits");
        }
        for (int i = 0; i < n; i++) {
            assertEquals(expect[i], memory.get(0)[i], 1e-5 * ranks * Math.max(1, Math.abs(expect[i])), "element " + i);
        }
        try (LocalGroup g = new LocalGroup(ranks, 20_000)) {
            List<float[]> tcp = g.onAll(c -> {
                ByteBuffer b = randomFloats(n, c.rank());
                new RingAllReduce(c.link()).sum(1, b);
                return floats(b);
            });
            assertArrayEquals(tcp.get(0), memory.get(0), "the same algorithm over TCP gives the same bits");
        }
    }

    private static List<float[]> overMemory(int ranks, int n) throws Exception {
        List<Link> links = MemoryLinks.create(ranks);
        ExecutorService pool = Executors.newFixedThreadPool(ranks);
        try {
            List<Future<float[]>> fs = new ArrayList<>();
            for (Link link : links) {
                fs.add(pool.submit(() -> {
                    ByteBuffer b = randomFloats(n, link.rank());
                    new RingAllReduce(link).sum(1, b);
                    return floats(b);
                }));
            }
            List<float[]> out = new ArrayList<>();
            for (Future<float[]> f : fs) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
            links.forEach(Link::close);
        }
    }
}
