package siameseim.datasets.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Arrays;
import java.util.SplittableRandom;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.image.RgbImage;
import siameseim.datasets.loader.BatchAssembler;
import siameseim.datasets.loader.BatchLoader;
import siameseim.datasets.loader.BatchMixing;
import siameseim.datasets.loader.SampleSource;

/**
 * Batch mixing against the uniform shuffle's expectation, which it computes itself: the mean
 * distinct classes per batch and the mean share of the top class over uniform permutations of the
 * same labels (java.util.Collections.shuffle, independent of the loader's own shuffling code).
 */
public final class BatchMixingCheck {
    private BatchMixingCheck() {}

    /** The labels a batch carries: a BatchAssembler that keeps nothing else. */
    public static final BatchAssembler<int[]> LABELS = (RgbImage[] images, int[] labels, SplittableRandom[] r,
            SplittableRandom b) -> labels.clone();

    /**
     * The labels replica {@code rank} of {@code replicas} trains on in epoch {@code epoch}, batch after
     * batch of {@code localBatch}, through the real BatchLoader (seed 3, one micro-batch per step).
     */
    public static int[] replicaLabels(SampleSource src, int rank, int replicas, int localBatch, long epoch) {
        List<int[]> got = new ArrayList<>();
        long steps = src.size() / (localBatch * replicas);
        try (BatchLoader<int[]> loader = new BatchLoader<>(src, LABELS, ImageDecoder.named("opencv"),
                localBatch * replicas, 1, rank, replicas, 3, epoch * steps, 1, 2)) {
            for (long s = 0; s < steps; s++) {
                got.add(loader.next().get(0));
            }
        }
        return got.stream().flatMapToInt(Arrays::stream).toArray();
    }

    /** The measure of uniform shuffles of {@code labels}, averaged over {@code rounds} permutations. */
    public static BatchMixing.Measure uniform(int[] labels, int batch, int rounds) {
        List<Integer> l = new ArrayList<>();
        for (int x : labels) {
            l.add(x);
        }
        Random rnd = new Random(12345);
        double classes = 0;
        double top = 0;
        for (int i = 0; i < rounds; i++) {
            Collections.shuffle(l, rnd);
            BatchMixing.Measure m = BatchMixing.of(l.stream().mapToInt(Integer::intValue).toArray(), batch);
            classes += m.classes();
            top += m.topShare();
        }
        return new BatchMixing.Measure(classes / rounds, top / rounds, labels.length / batch);
    }

    /**
     * Asserts that {@code seen} is within 3 % (relative) of uniform shuffles of {@code all} in distinct
     * classes per batch and within 3 percentage points in the top class's share.
     */
    public static void assertUniform(String what, BatchMixing.Measure seen, int[] all, int batch) {
        BatchMixing.Measure u = uniform(all, batch, 20);
        String detail = String.format("%s: %.2f classes per batch, top class %.1f %%; uniform shuffle %.2f and %.1f %%",
                what, seen.classes(), 100 * seen.topShare(), u.classes(), 100 * u.topShare());
        System.out.println(detail);
        assertEquals(u.classes(), seen.classes(), 0.03 * u.classes(), detail);
        assertEquals(u.topShare(), seen.topShare(), 0.03, detail);
    }
}
