package siameseim.ml;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Whether {@link EmbeddingBatches} decodes the next batch while the encoder runs, and on how many
 * intra-op threads the encoder then runs, chosen from measured batch times. Overlapping only pays
 * when the decoding thread does not slow the forward pass's threads by more than it saves: on a
 * host whose cores the forward pass already fills it lost (ViT-Tiny 32.9 against 37.6 images/s,
 * ViT-B 3.1 against 4.0 on an AVX-512 host), elsewhere it wins. So the first batches try each way:
 * one warm-up batch, then for each candidate (sequential, overlapped) one batch that fills the
 * pipeline and {@code probes} timed batches; then the candidate with the shorter median batch
 * cycle runs the rest. The overlapped one must beat the sequential one by {@link #MARGIN}, so noise
 * never buys a second thread; a tie stays sequential. Every {@link #RECHECK} batches after a choice
 * the two are measured again (without the warm-up), since the load of a shared host changes and a
 * choice from a few noisy batches can be wrong; the probes cost a few percent at most. Both run
 * the encoder on the same intra-op
 * thread count: another count may change the features' last bits (how the matrix products are
 * split), and an image's embedding must not depend on a timing.
 *
 * <p>A batch cycle is the time from one full batch's dispatch to the next: the forward pass plus
 * the next batch's decoding when sequential, the longer of the two (each slowed by the other)
 * when overlapped. Not thread-safe: the caller's thread drives it.
 */
final class OverlapChoice {
    /** An overlapped candidate's median cycle must be below this fraction of the sequential one's. */
    static final double MARGIN = 0.95;
    /** Batches run the chosen way before both are measured again. */
    static final int RECHECK = 64;

    /** One way to run: overlapped or not, on the encoder's intra-op threads. */
    record Plan(boolean overlap, int threads) {
        String describe() {
            return (overlap ? "overlapped" : "sequential") + " on " + threads + " thread" + (threads == 1 ? "" : "s");
        }
    }

    private final List<Plan> candidates = new ArrayList<>();
    private final List<List<Long>> cycles = new ArrayList<>();
    private final int probes;
    /** Batches handed out in the current measuring round (the first round starts with the warm-up). */
    private int batches;
    private Plan chosen;
    /** Batches run the chosen way since the choice; -1 for a fixed plan, which never measures. */
    private int sinceChoice;

    /**
     * @param threads the encoder's intra-op threads
     * @param probes timed batches per candidate
     */
    OverlapChoice(int threads, int probes) {
        if (threads < 1 || probes < 1) {
            throw new IllegalArgumentException("threads " + threads + " and probes " + probes + " must be >= 1");
        }
        this.probes = probes;
        candidates.add(new Plan(false, threads));
        candidates.add(new Plan(true, threads));
        for (int i = 0; i < candidates.size(); i++) {
            cycles.add(new ArrayList<>());
        }
    }

    /** A fixed plan (no measuring): {@code bench} runs each way on its own with it. */
    static OverlapChoice fixed(Plan plan) {
        OverlapChoice c = new OverlapChoice(plan.threads(), 1);
        c.chosen = plan;
        c.sinceChoice = -1;
        return c;
    }

    /** The plan of the next batch. */
    Plan next() {
        if (chosen != null) {
            if (sinceChoice < 0 || ++sinceChoice <= RECHECK) {
                return chosen;
            }
            chosen = null; // measure again; the encoder is warm, so no warm-up batch
            cycles.forEach(List::clear);
            batches = 1;
        }
        int i = batches++;
        if (i == 0) {
            return candidates.get(0); // warm-up: first call of the encoder, first JIT
        }
        int candidate = (i - 1) / (probes + 1);
        return candidates.get(Math.min(candidate, candidates.size() - 1));
    }

    /**
     * The cycle of the batch that {@link #next} gave {@code plan} to, in nanoseconds; {@code full} false for a
     * last, partial batch (not counted). The first batch of each candidate fills the pipeline and is not counted.
     */
    void measured(Plan plan, long nanos, boolean full) {
        if (chosen != null || !full) {
            return;
        }
        int i = batches - 1; // the batch this cycle belongs to
        if (i == 0 || (i - 1) % (probes + 1) == 0) {
            return;
        }
        int candidate = candidates.indexOf(plan);
        cycles.get(candidate).add(nanos);
        if (candidate == candidates.size() - 1 && cycles.get(candidate).size() == probes) {
            chosen = best();
            sinceChoice = 0;
        }
    }

    /** The candidate with the shortest median cycle; an overlapped one only when below MARGIN x sequential. */
    private Plan best() {
        double sequential = median(cycles.get(0));
        int best = 0;
        double bestTime = sequential;
        for (int c = 1; c < candidates.size(); c++) {
            double t = median(cycles.get(c));
            if (t < MARGIN * sequential && t < bestTime) {
                best = c;
                bestTime = t;
            }
        }
        return candidates.get(best);
    }

    /** The plan that runs the rest, or null while the first batches still measure. */
    Plan chosen() {
        return chosen;
    }

    /** The measured median cycle of each candidate, for the log: "sequential on 2 threads 812 ms, ...". */
    String report() {
        List<String> parts = new ArrayList<>();
        for (int c = 0; c < candidates.size(); c++) {
            if (!cycles.get(c).isEmpty()) {
                parts.add(String.format(Locale.ROOT, "%s %.0f ms", candidates.get(c).describe(),
                        median(cycles.get(c)) / 1e6));
            }
        }
        return String.join(", ", parts);
    }

    private static double median(List<Long> v) {
        long[] s = v.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
    }
}
