package siameseim.datasets.loader;

import java.util.Locale;

/**
 * How well mixed the batches of an epoch order are, against uniform samples of the split: the
 * reference draws every epoch as a uniform permutation (spec section 3: global-batch BatchNorm
 * statistics and UniGrad's batch correlation assume batches that are samples of the dataset), so a
 * batch of b should hold about {@link #uniformClasses} classes. A training job checks the first
 * batches of its order before the stage starts and warns when they hold far fewer.
 */
public final class BatchMixing {
    /** Warn when the batches hold fewer than this fraction of a uniform sample's classes. */
    static final double WARN_BELOW = 0.8;

    private BatchMixing() {}

    /** Mean distinct classes per batch and the mean share of a batch's most frequent class. */
    public record Measure(double classes, double topShare, int batches) {}

    /** The measure of {@code labels} cut into consecutive batches of {@code batch} (a partial tail is left out). */
    public static Measure of(int[] labels, int batch) {
        int batches = labels.length / batch;
        double classes = 0;
        double top = 0;
        java.util.Map<Integer, Integer> counts = new java.util.HashMap<>();
        for (int b = 0; b < batches; b++) {
            counts.clear();
            int max = 0;
            for (int i = b * batch; i < (b + 1) * batch; i++) {
                max = Math.max(max, counts.merge(labels[i], 1, Integer::sum));
            }
            classes += counts.size();
            top += (double) max / batch;
        }
        return new Measure(batches == 0 ? 0 : classes / batches, batches == 0 ? 0 : top / batches, batches);
    }

    /**
     * Expected distinct classes in a uniform sample of {@code batch} rows without replacement from a
     * split with {@code perClass} rows of each class: the sum over classes of
     * 1 - C(n - n_c, b) / C(n, b).
     */
    public static double uniformClasses(long[] perClass, int batch) {
        long n = 0;
        for (long c : perClass) {
            n += c;
        }
        double sum = 0;
        for (long c : perClass) {
            if (c == 0) {
                continue;
            }
            double none = 1; // probability that the sample misses the class
            for (int i = 0; i < batch && none > 0; i++) {
                none *= Math.max(0, (double) (n - c - i) / (n - i));
            }
            sum += 1 - none;
        }
        return sum;
    }

    /**
     * A one-line warning when {@code seen} holds far fewer classes per batch than uniform samples
     * would, else null.
     *
     * @param what the dataset and split, as the user named them
     * @param remedy what to do about it
     */
    public static String warning(String what, Measure seen, long[] perClass, int batch, String remedy) {
        double uniform = uniformClasses(perClass, batch);
        if (seen.batches() == 0 || seen.classes() >= WARN_BELOW * uniform || uniform - seen.classes() < 1) {
            return null;
        }
        return String.format(Locale.ROOT, "the first %d batches of %d from %s hold %.1f classes each on average"
                + " (the most frequent one %.0f %% of a batch), where uniform samples of the split hold %.1f: %s",
                seen.batches(), batch, what, seen.classes(), 100 * seen.topShare(), uniform, remedy);
    }
}
