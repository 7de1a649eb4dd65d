package siameseim.datasets.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Spec 8.3 check 6: exactly N masked patches on every draw, real blocks. */
class BlockMaskGeneratorTest {

    private static void exactCountOver10k(int grid, int count, int minBlock) {
        BlockMaskGenerator g = new BlockMaskGenerator(grid, count, minBlock, count, 0.3);
        SplittableRandom rng = new SplittableRandom(42);
        long blocky = 0;
        for (int i = 0; i < 10_000; i++) {
            boolean[] mask = g.next(rng);
            int n = 0;
            for (boolean b : mask) {
                n += b ? 1 : 0;
            }
            assertEquals(count, n, "draw " + i);
            assertEquals(grid * grid - count, BlockMaskGenerator.visible(mask).length);
            blocky += adjacentPairs(mask, grid);
        }
        // block masks have far more masked neighbour pairs than random scatter would
        double perMask = blocky / 10_000.0;
        double randomExpectation = 2.0 * grid * (grid - 1) * (count / (double) (grid * grid))
                * ((count - 1) / (double) (grid * grid - 1));
        assertTrue(perMask > 1.2 * randomExpectation, perMask + " vs random " + randomExpectation);
    }

    private static int adjacentPairs(boolean[] m, int g) {
        int n = 0;
        for (int r = 0; r < g; r++) {
            for (int c = 0; c < g; c++) {
                if (m[r * g + c] && c + 1 < g && m[r * g + c + 1]) {
                    n++;
                }
                if (m[r * g + c] && r + 1 < g && m[(r + 1) * g + c]) {
                    n++;
                }
            }
        }
        return n;
    }

    @Test
    void paperSize118Of196() {
        exactCountOver10k(14, 118, 16);
    }

    @Test
    void demoSize38Of64() {
        exactCountOver10k(8, 38, 4);
    }

    @Test
    void sameSeedSameMask() {
        BlockMaskGenerator g = new BlockMaskGenerator(14, 118, 16, 118, 0.3);
        assertEquals(java.util.Arrays.toString(g.next(new SplittableRandom(3))),
                java.util.Arrays.toString(g.next(new SplittableRandom(3))));
    }
}
