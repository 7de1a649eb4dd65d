package siameseim.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static siameseim.testing.Floats.randomFloats;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The shared-memory all-reduce over any sequence of lengths, as training makes them (the gradients
 * and a UniGrad correlation matrix above 256 KiB, with nothing in between under {@code
 * decoder.norm = layer}): back-to-back all-reduces whose lengths alternate, grow, shrink and
 * repeat, among 2 and 4 ranks on real {@code /dev/shm} regions, give every rank the ring
 * all-reduce's bits for the same inputs; only a change of length costs a barrier.
 */
class SharedMemoryChangingSizesTest {
    /**
     * Float counts, all above the direct exchange's limit; 589 824 is the correlation matrix at
     * width 768 (2.25 MiB). Uneven counts make segments of unequal lengths.
     */
    private static final int[] SIZES = {65_537, 300_007, 589_824, 1_000_003, 2_000_001};
    /** Inputs per size, used in turn, so that an operation never repeats the previous one's values. */
    private static final int VARIANTS = 3;

    @ParameterizedTest(name = "{0} ranks, {1} all-reduces")
    @CsvSource({"2, 1000", "4, 500"})
    void backToBackAllReducesOfChangingLengthsGiveTheRingsBits(int ranks, int iterations) throws Exception {
        int[] sequence = sequence(iterations);
        ByteBuffer[][] ring = ringSums(ranks);
        try (LocalGroup g = new LocalGroup(ranks, 60_000)) {
            List<List<String>> wrong = g.onAll(c -> {
                ByteBuffer[][] in = inputs(c.rank(), ranks);
                ByteBuffer[] work = new ByteBuffer[SIZES.length];
                for (int s = 0; s < SIZES.length; s++) {
                    work[s] = ByteBuffer.allocateDirect(SIZES[s] * 4).order(ByteOrder.nativeOrder());
                }
                List<String> errors = new ArrayList<>();
                for (int it = 0; it < iterations; it++) {
                    int s = sequence[it];
                    ByteBuffer b = work[s].clear().put(in[s][it % VARIANTS].duplicate()).flip();
                    c.allReduceSum(b); // nothing between one all-reduce and the next
                    int at = b.mismatch(ring[s][it % VARIANTS].duplicate());
                    if (at >= 0 && errors.size() < 5) {
                        int i = at / 4 * 4;
                        // a rank still reading this result while another rank begins the next all-reduce
                        String next = it + 1 < iterations ? ", the next " + SIZES[sequence[it + 1]] : ", the last";
                        errors.add("rank " + c.rank() + ", all-reduce " + it + " of " + SIZES[s] + " floats" + next
                                + ": float " + at / 4 + " is " + b.getFloat(i) + ", the ring gives "
                                + ring[s][it % VARIANTS].getFloat(i));
                    }
                }
                assertTrue(c.usesSharedMemory(), "rank " + c.rank() + " used shared memory");
                return errors;
            });
            assertEquals(List.of(), wrong.stream().flatMap(List::stream).toList());
        }
    }

    /**
     * The cost side, counted in collective operations: an all-reduce of the previous one's length
     * is three (itself and its two barriers), one of another length four (the barrier it begins
     * with).
     */
    @Test
    void onlyAChangeOfLengthCostsABarrier() throws Exception {
        int[] lengths = {589_824, 589_824, 589_824, 300_007, 589_824, 589_824};
        try (LocalGroup g = new LocalGroup(2, 60_000)) {
            List<List<Integer>> ops = g.onAll(c -> {
                List<Integer> counts = new ArrayList<>();
                for (int floats : lengths) {
                    ByteBuffer b = randomFloats(floats, c.rank());
                    int before = c.operations();
                    c.allReduceSum(b);
                    counts.add(c.operations() - before);
                }
                assertTrue(c.usesSharedMemory());
                return counts.subList(1, counts.size()); // the first votes on and maps the regions
            });
            assertEquals(List.of(List.of(3, 3, 4, 4, 3), List.of(3, 3, 4, 4, 3)), ops);
        }
    }

    /**
     * Which size each all-reduce has: another size (larger or smaller) three times in four, the
     * previous one's otherwise.
     */
    private static int[] sequence(int iterations) {
        SplittableRandom rng = new SplittableRandom(36);
        int[] seq = new int[iterations];
        for (int it = 1; it < iterations; it++) {
            seq[it] = rng.nextInt(4) == 0 ? seq[it - 1] : (seq[it - 1] + 1 + rng.nextInt(SIZES.length - 1)) % SIZES.length;
        }
        return seq;
    }

    /**
     * A rank's inputs by size and variant. Two ranks get Gaussian floats (a + b == b + a, so any
     * algorithm gives the same bits). With more ranks the ring and the shared-memory sum add in
     * different orders, so they get multiples of 1/256 below 128 in magnitude, whose sums are
     * exact in every order.
     */
    private static ByteBuffer[][] inputs(int rank, int ranks) {
        ByteBuffer[][] in = new ByteBuffer[SIZES.length][VARIANTS];
        for (int s = 0; s < SIZES.length; s++) {
            for (int v = 0; v < VARIANTS; v++) {
                long seed = 1000L * rank + 10L * s + v;
                if (ranks == 2) {
                    in[s][v] = randomFloats(SIZES[s], seed);
                } else {
                    SplittableRandom rng = new SplittableRandom(seed);
                    ByteBuffer b = ByteBuffer.allocateDirect(SIZES[s] * 4).order(ByteOrder.nativeOrder());
                    for (int i = 0; i < SIZES[s]; i++) {
                        b.putFloat(4 * i, (rng.nextInt(1 << 16) - (1 << 15)) / 256f);
                    }
                    in[s][v] = b;
                }
            }
        }
        return in;
    }

    /** The ring all-reduce of every input, by size and variant (TCP between the ranks). */
    private static ByteBuffer[][] ringSums(int ranks) throws Exception {
        try (LocalGroup g = new LocalGroup(ranks, 60_000)) {
            g.ranks.forEach(c -> c.setSharedMemory(false));
            List<ByteBuffer[][]> sums = g.onAll(c -> {
                ByteBuffer[][] in = inputs(c.rank(), ranks);
                for (ByteBuffer[] bySize : in) {
                    for (ByteBuffer b : bySize) {
                        c.allReduceSum(b);
                    }
                }
                assertFalse(c.usesSharedMemory(), "the ring, over TCP");
                return in;
            });
            return sums.get(0);
        }
    }
}
