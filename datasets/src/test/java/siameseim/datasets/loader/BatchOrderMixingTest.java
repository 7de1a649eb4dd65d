package siameseim.datasets.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.shards.ImageRecord;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.ShardWriter;
import siameseim.datasets.testing.BatchMixingCheck;

/**
 * Batches of a dataset whose shards store rows in class order (10 classes of 1 000 rows, about 12
 * shards, shuffle window 256: a window is a quarter of a class) are uniform samples when the
 * loader interleaves the shards, through the real BatchLoader and ShardSource, for 1 and 2
 * replicas; without the interleave they are not (what the loader did before).
 */
class BatchOrderMixingTest {
    static final int CLASSES = 10;
    static final int PER_CLASS = 1000;
    static final int WINDOW = 256;
    static final int LOCAL_BATCH = 64;
    @TempDir
    static java.nio.file.Path tmp;
    static Manifest manifest;
    static Path root;
    static final Configuration CONF = new Configuration();

    @BeforeAll
    static void writeSortedShards() throws Exception {
        root = new Path(tmp.toUri());
        byte[] jpeg = ImageDecoder.named("opencv").encodeJpeg(
                siameseim.datasets.synthetic.SyntheticShapes.dataset(1, 0, 1, 8, 1).image(0), 90);
        long rowBytes = jpeg.length + 40L;
        ShardWriter w = new ShardWriter(CONF, root, "train", "part-00000", rowBytes * (CLASSES * PER_CLASS / 12 + 1));
        long[] perClass = new long[CLASSES];
        List<String> names = new ArrayList<>();
        for (int c = 0; c < CLASSES; c++) {
            names.add("c" + c);
            for (int i = 0; i < PER_CLASS; i++) {
                w.write(new ImageRecord("c" + c + "/" + i + ".jpg", c, "c" + c, jpeg, 8, 8, "jpeg"));
                perClass[c]++;
            }
        }
        w.close();
        assertTrue(w.shards().size() >= 10 && w.shards().size() <= 16, "shards written: " + w.shards().size());
        manifest = new Manifest("sorted by the test", names, Map.of("train", new Manifest.Split(CLASSES * PER_CLASS,
                perClass, w.shards())), new Manifest.RowOrder(Manifest.RowOrder.SORTED, 0), List.of(), new JsonObject());
    }

    private static ShardSource source(int interleave) {
        return new ShardSource(CONF, root, manifest, "train", null, WINDOW, interleave, 2);
    }

    private static int[] replicaLabels(ShardSource src, int rank, int replicas, long epoch) {
        return BatchMixingCheck.replicaLabels(src, rank, replicas, LOCAL_BATCH, epoch);
    }

    private static int[] allLabels() {
        int[] all = new int[CLASSES * PER_CLASS];
        for (int i = 0; i < all.length; i++) {
            all[i] = i / PER_CLASS;
        }
        return all;
    }

    @Test
    void interleavedSortedShardsGiveUniformBatchesForOneAndTwoReplicas() {
        ShardSource src = source(16);
        for (int replicas : new int[] {1, 2}) {
            for (int rank = 0; rank < replicas; rank++) {
                int[] labels = replicaLabels(src, rank, replicas, 0);
                BatchMixingCheck.assertUniform(replicas + " replica(s), rank " + rank, BatchMixing.of(labels,
                        LOCAL_BATCH), allLabels(), LOCAL_BATCH);
            }
        }
    }

    @Test
    void withoutTheInterleaveSortedShardsGiveBatchesOfOneOrTwoClasses() {
        int[] labels = replicaLabels(source(1), 0, 1, 0);
        BatchMixing.Measure m = BatchMixing.of(labels, LOCAL_BATCH);
        assertTrue(m.classes() < 2.5, "classes per batch: " + m.classes());
        assertNotNull(BatchMixing.warning("sorted", m, manifest.split("train").perClass(), LOCAL_BATCH, "fix it"));
        assertNull(BatchMixing.warning("sorted", BatchMixing.of(replicaLabels(source(16), 0, 1, 0), LOCAL_BATCH),
                manifest.split("train").perClass(), LOCAL_BATCH, "fix it"));
    }

    @Test
    void theLabelsReadForTheCheckAreTheOnesTheFeedServes() throws Exception {
        ShardSource src = source(16);
        int[] fed = new int[300];
        try (SampleSource.Feed f = src.open(0, 3, 1000, 1300)) {
            for (int i = 0; i < fed.length; i++) {
                fed[i] = f.next().label();
            }
        }
        assertArrayEquals(fed, src.labels(0, 3, 1000, 1300));
    }

    @Test
    void theInterleavedOrderIsAPermutationFixedBySeedAndEpoch() {
        long[] rows = manifest.split("train").shardRows();
        int[] a = EpochOrder.of(rows, 3, 0, WINDOW, 16);
        assertArrayEquals(a, EpochOrder.of(rows, 3, 0, WINDOW, 16), "same seed and epoch");
        assertTrue(!Arrays.equals(a, EpochOrder.of(rows, 3, 1, WINDOW, 16)), "another epoch");
        assertTrue(!Arrays.equals(a, EpochOrder.of(rows, 4, 0, WINDOW, 16)), "another seed");
        int[] sorted = a.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) {
            assertEquals(i, sorted[i]);
        }
        // groups of 4 shards: a group's rows never leave its span of the order
        int[] g = EpochOrder.of(new long[] {5, 5, 5, 5, 5, 5, 5, 5}, 1, 0, 1, 4);
        java.util.Set<Integer> firstShards = new java.util.HashSet<>();
        for (int i = 0; i < 20; i++) {
            firstShards.add(g[i] / 5);
        }
        assertEquals(4, firstShards.size(), "the first 20 positions come from one group of 4 shards");
    }

    @Test
    void aResumedLoaderServesTheSameBatchesFromTheInterleavedOrder() {
        ShardSource src = source(16);
        List<int[]> full = new ArrayList<>();
        try (BatchLoader<int[]> loader = new BatchLoader<>(src, BatchMixingCheck.LABELS, ImageDecoder.named("opencv"), 128, 1, 1, 2,
                3, 0, 1, 2)) {
            for (int s = 0; s < 60; s++) {
                full.add(loader.next().get(0));
            }
        }
        try (BatchLoader<int[]> resumed = new BatchLoader<>(src, BatchMixingCheck.LABELS, ImageDecoder.named("opencv"), 128, 1, 1, 2,
                3, 37, 1, 2)) {
            for (int s = 37; s < 60; s++) {
                assertArrayEquals(full.get(s), resumed.next().get(0), "step " + s);
            }
        }
    }

    @Test
    void uniformClassesMatchesTheClosedForm() {
        long[] tenEqual = new long[10];
        Arrays.fill(tenEqual, 6000);
        // with replacement 10 (1 - 0.9^64) = 9.9882; without replacement from 60 000 a hair more
        assertEquals(9.9882, BatchMixing.uniformClasses(tenEqual, 64), 2e-3);
        assertEquals(1.0, BatchMixing.uniformClasses(new long[] {0, 50, 0}, 8), 1e-12);
        assertEquals(2.0, BatchMixing.uniformClasses(new long[] {1, 1}, 2), 1e-12);
    }
}
