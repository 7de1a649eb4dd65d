package siameseim.ml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;
import org.junit.jupiter.api.Test;

/**
 * The overlap is chosen from the measured batch cycles: a warm-up batch, then each way in turn
 * (its first batch fills the pipeline, uncounted), then the faster for good; overlapping must win
 * by the margin, a tie stays sequential, and a partial batch does not count.
 */
class OverlapChoiceTest {
    private static final OverlapChoice.Plan SEQUENTIAL = new OverlapChoice.Plan(false, 4);
    private static final OverlapChoice.Plan OVERLAPPED = new OverlapChoice.Plan(true, 4);

    /** Drives {@code batches} batches as EmbeddingBatches does; cycle times from {@code cycle}; the plans used. */
    private static List<OverlapChoice.Plan> run(OverlapChoice c, int batches, ToLongFunction<OverlapChoice.Plan> cycle) {
        List<OverlapChoice.Plan> used = new ArrayList<>();
        OverlapChoice.Plan last = null;
        for (int i = 0; i < batches; i++) {
            if (last != null) {
                c.measured(last, cycle.applyAsLong(last), true);
            }
            last = c.next();
            used.add(last);
        }
        return used;
    }

    @Test
    void triesEachWayThenKeepsTheFaster() {
        OverlapChoice c = new OverlapChoice(4, 2);
        // overlapped 30 % faster: chosen after 1 warm-up + 3 sequential + 3 overlapped batches
        List<OverlapChoice.Plan> used = run(c, 12, p -> p.overlap() ? 700 : 1000);
        assertEquals(List.of(SEQUENTIAL, SEQUENTIAL, SEQUENTIAL, SEQUENTIAL, OVERLAPPED, OVERLAPPED, OVERLAPPED,
                OVERLAPPED, OVERLAPPED, OVERLAPPED, OVERLAPPED, OVERLAPPED), used);
        assertEquals(OVERLAPPED, c.chosen());
        assertTrue(c.report().contains("sequential on 4 threads 0 ms"), c.report());
    }

    @Test
    void theOverlapThatLosesIsSwitchedOff() {
        // the AVX-512 host's ViT-B: 4.0 images/s sequential against 3.1 overlapped
        OverlapChoice c = new OverlapChoice(8, 2);
        List<OverlapChoice.Plan> used = run(c, 10, p -> p.overlap() ? 5_160_000_000L : 4_000_000_000L);
        assertEquals(new OverlapChoice.Plan(false, 8), used.get(used.size() - 1));
        assertEquals(new OverlapChoice.Plan(false, 8), c.chosen());
    }

    @Test
    void overlappingMustWinByTheMargin() {
        OverlapChoice c = new OverlapChoice(2, 2);
        run(c, 8, p -> p.overlap() ? 970 : 1000); // 3 % faster: noise, stays sequential
        assertEquals(new OverlapChoice.Plan(false, 2), c.chosen());
        OverlapChoice d = new OverlapChoice(2, 2);
        run(d, 8, p -> p.overlap() ? 940 : 1000); // 6 % faster
        assertEquals(new OverlapChoice.Plan(true, 2), d.chosen());
    }

    @Test
    void firstBatchOfEachWayAndPartialBatchesAreNotCounted() {
        OverlapChoice c = new OverlapChoice(2, 2);
        long[] cycles = {
            1, // warm-up: not counted
            999_999, 100, 100, // sequential: pipeline fill (not counted), then 100, 100
            1, 200, 200}; // overlapped: a fill that waited for nothing (not counted), then 200, 200
        OverlapChoice.Plan last = null;
        for (int i = 0; i < cycles.length; i++) {
            if (last != null) {
                c.measured(last, cycles[i - 1], true);
            }
            last = c.next();
        }
        assertNull(c.chosen(), "the last overlapped probe is not in yet");
        c.measured(last, cycles[cycles.length - 1], true);
        assertEquals(new OverlapChoice.Plan(false, 2), c.chosen());
        assertEquals("sequential on 2 threads 0 ms, overlapped on 2 threads 0 ms", c.report());

        OverlapChoice p = new OverlapChoice(2, 1);
        p.next(); // warm-up
        p.measured(new OverlapChoice.Plan(false, 2), 5, true);
        p.next(); // sequential fill
        p.measured(new OverlapChoice.Plan(false, 2), 5, true);
        p.next(); // sequential probe: the input ends with a partial batch
        p.measured(new OverlapChoice.Plan(false, 2), 1, false);
        assertTrue(p.report().isEmpty(), "nothing counted: " + p.report());
    }

    @Test
    void measuresAgainAfterRecheckBatchesAndFollowsTheLoad() {
        OverlapChoice c = new OverlapChoice(2, 2);
        long[] batch = {0};
        // overlapped faster for the first 100 batches, then (another job on the host) slower
        List<OverlapChoice.Plan> used = run(c, 160, p -> {
            batch[0]++;
            return batch[0] < 100 ? (p.overlap() ? 600 : 1000) : (p.overlap() ? 1500 : 1000);
        });
        OverlapChoice.Plan seq = new OverlapChoice.Plan(false, 2);
        OverlapChoice.Plan ovl = new OverlapChoice.Plan(true, 2);
        assertEquals(ovl, used.get(7));
        assertEquals(ovl, used.get(7 + OverlapChoice.RECHECK - 1), "the choice holds for RECHECK batches");
        // then 3 sequential and 3 overlapped batches measure again, and the overlap still wins
        assertEquals(List.of(seq, seq, seq, ovl, ovl, ovl, ovl), used.subList(7 + OverlapChoice.RECHECK,
                7 + OverlapChoice.RECHECK + 7));
        // the next round (after batch 100) finds the overlap slower and switches it off
        assertEquals(seq, used.get(159));
        assertEquals(seq, c.chosen());
    }

    @Test
    void fixedPlansNeverMeasure() {
        OverlapChoice c = OverlapChoice.fixed(OVERLAPPED);
        assertEquals(List.of(OVERLAPPED, OVERLAPPED, OVERLAPPED), run(c, 3, p -> 5));
        assertEquals("", c.report());
        assertThrows(IllegalArgumentException.class, () -> new OverlapChoice(0, 2));
    }
}
