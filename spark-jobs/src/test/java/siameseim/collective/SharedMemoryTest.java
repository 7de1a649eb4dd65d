package siameseim.collective;

import static siameseim.testing.Floats.floats;
import static siameseim.testing.Floats.randomFloats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shared-memory all-reduce: exact sums identical on every rank across growing sizes, the
 * same bits as the TCP ring for two ranks, no file left behind, and TCP for everyone when one
 * rank cannot see the others' regions or has the path turned off.
 */
class SharedMemoryTest {

    static List<String> leftovers() throws Exception {
        try (Stream<Path> s = Files.list(SharedRegions.DIR)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("siameseim-")).toList();
        }
    }

    /** Sums of rank-seeded buffers of the given float counts, one after the other; results of rank 0 and 1. */
    static List<float[][]> sums(LocalGroup g, int... sizes) throws Exception {
        return g.onAll(c -> {
            float[][] out = new float[sizes.length][];
            for (int k = 0; k < sizes.length; k++) {
                ByteBuffer b = randomFloats(sizes[k], 31L * k + c.rank());
                c.allReduceSum(b);
                out[k] = floats(b);
            }
            return out;
        });
    }

    @Test
    void growingSizesAreExactAndIdenticalAndLeaveNoFile() throws Exception {
        List<String> before = leftovers();
        int[] sizes = {100_000, 3_000_000, 70_001, 5_000_003};
        try (LocalGroup g = new LocalGroup(3, 20_000)) {
            List<float[][]> r = sums(g, sizes);
            assertTrue(g.ranks.stream().allMatch(Collective::usesSharedMemory));
            for (int k = 0; k < sizes.length; k++) {
                float[] expect = new float[sizes[k]];
                for (int rank = 0; rank < 3; rank++) {
                    float[] f = floats(randomFloats(sizes[k], 31L * k + rank));
                    for (int i = 0; i < sizes[k]; i++) {
                        expect[i] = rank == 0 ? f[i] : expect[i] + f[i]; // rank order, as the segments are summed
                    }
                }
                for (float[][] rank : r) {
                    assertArrayEquals(expect, rank[k], "size " + sizes[k] + ": the rank-order sum, bit for bit");
                }
            }
            assertEquals(before, leftovers(), "regions are unlinked once mapped");
        }
    }

    @Test
    void twoRanksGiveTheRingsBits() throws Exception {
        List<float[][]> shm;
        List<float[][]> ring;
        try (LocalGroup g = new LocalGroup(2, 20_000)) {
            shm = sums(g, 1_000_003);
            assertTrue(g.ranks.get(0).usesSharedMemory());
        }
        try (LocalGroup g = new LocalGroup(2, 20_000)) {
            g.ranks.forEach(c -> c.setSharedMemory(false));
            ring = sums(g, 1_000_003);
        }
        assertArrayEquals(ring.get(0)[0], shm.get(0)[0]);
        assertArrayEquals(ring.get(1)[0], shm.get(1)[0]);
    }

    @Test
    void aRankThatCannotSeeTheRegionsMakesEveryoneUseTcp(@TempDir Path tmp) throws Exception {
        try (LocalGroup g = new LocalGroup(2, 20_000)) {
            // as on two hosts: each rank's "/dev/shm" is a different folder
            g.ranks.get(0).setSharedMemoryDir(Files.createDirectories(tmp.resolve("host-a")));
            g.ranks.get(1).setSharedMemoryDir(Files.createDirectories(tmp.resolve("host-b")));
            List<float[][]> r = sums(g, 200_000, 300_000);
            assertFalse(g.ranks.get(0).usesSharedMemory() || g.ranks.get(1).usesSharedMemory());
            assertArrayEquals(r.get(0)[1], r.get(1)[1]);
            assertTrue(g.log.stream().anyMatch(l -> l.contains("not visible here")), g.log.toString());
        }
        try (LocalGroup g = new LocalGroup(2, 20_000)) {
            g.ranks.get(1).setSharedMemory(false);
            sums(g, 200_000);
            assertFalse(g.ranks.get(0).usesSharedMemory(), "one rank turned it off");
            assertTrue(g.log.stream().anyMatch(l -> l.contains("turned off on rank 1")), g.log.toString());
        }
    }
}
