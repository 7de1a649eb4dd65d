package siameseim.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.config.ConfigLoader;
import siameseim.config.PrepareConfig;
import siameseim.config.PretrainConfig;
import siameseim.datasets.loader.BatchMixing;
import siameseim.datasets.prepare.ImageFolderWriter;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.ShardReader;
import siameseim.datasets.synthetic.SyntheticShapes;
import siameseim.datasets.testing.BatchMixingCheck;
import siameseim.prepare.DatasetPreparation;
import siameseim.testing.Fixtures;
import siameseim.testing.LocalSpark;

/**
 * Batch order on datasets the prepare job wrote from a class-sorted tree (10 classes of 1 000
 * images, shuffle window 256, a quarter of a class): stored shuffled (the default), every
 * replica's batches are uniform samples for 1 and 2 replicas; stored sorted, the interleave mixes
 * them; without it the job's check warns.
 */
class PreparedBatchOrderTest {
    static final int CLASSES = 10;
    static final int PER_CLASS = 1000;
    static final int LOCAL_BATCH = 64;
    static SparkSession spark;
    static Configuration conf;
    @TempDir
    static Path tmp;
    static String shuffled;
    static String sorted;
    static Manifest shuffledManifest;

    @BeforeAll
    static void prepare() throws Exception {
        spark = LocalSpark.start();
        conf = spark.sparkContext().hadoopConfiguration();
        org.apache.hadoop.fs.Path in = new org.apache.hadoop.fs.Path(tmp.resolve("images").toString());
        ImageFolderWriter.write(conf, in, "train", SyntheticShapes.dataset(CLASSES, 0, PER_CLASS, 12, 5),
                Fixtures.classNames(CLASSES), 80);
        shuffled = tmp.resolve("shuffled").toString();
        sorted = tmp.resolve("sorted").toString();
        shuffledManifest = DatasetPreparation.run(spark, prepareConfig(in, shuffled)).manifest();
        DatasetPreparation.run(spark, prepareConfig(in, sorted, "prepare.row-order=sorted"));
    }

    static PrepareConfig prepareConfig(org.apache.hadoop.fs.Path in, String out, String... more) {
        List<String> sets = new ArrayList<>(List.of("prepare.input=" + in, "prepare.output=" + out,
                "prepare.splits=[train]", "prepare.tasks=4", "prepare.shard-size-mb=1"));
        sets.addAll(List.of(more));
        return PrepareConfig.from(ConfigLoader.load(null, sets));
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static PretrainConfig config(String dataset, String... more) {
        List<String> sets = new ArrayList<>(List.of("data.path=" + dataset, "data.shuffle-window=256"));
        sets.addAll(List.of(more));
        return ConfigLoader.loadPretrain(null, sets);
    }

    static int[] allLabels() {
        int[] all = new int[CLASSES * PER_CLASS];
        for (int i = 0; i < all.length; i++) {
            all[i] = i / PER_CLASS;
        }
        return all;
    }

    @Test
    void theManifestRecordsAShuffledOrderAndEveryShardHoldsEveryClass() throws Exception {
        assertEquals(new Manifest.RowOrder(Manifest.RowOrder.SHUFFLED, 0), shuffledManifest.rowOrder());
        assertTrue(shuffledManifest.split("train").shards().size() >= 4, "shards: "
                + shuffledManifest.split("train").shards().size());
        for (var shard : shuffledManifest.split("train").shards()) {
            java.util.Set<Integer> classes = new java.util.HashSet<>();
            ShardReader.keys(conf, new org.apache.hadoop.fs.Path(shuffled, shard.path()))
                    .forEach(k -> classes.add(k.label()));
            assertEquals(CLASSES, classes.size(), shard.path());
        }
        Manifest sortedManifest = Manifest.read(conf, new org.apache.hadoop.fs.Path(sorted));
        assertEquals(Manifest.RowOrder.SORTED, sortedManifest.rowOrder().kind());
        assertEquals(shuffledManifest.split("train").perClass()[3], sortedManifest.split("train").perClass()[3]);
    }

    @Test
    void batchesOfAShuffledPreparedDatasetAreUniformSamplesForOneAndTwoReplicas() throws Exception {
        PretrainConfig cfg = config(shuffled);
        assertEquals(1, cfg.data().interleaveFor(true), "auto: no interleave needed");
        for (int replicas : new int[] {1, 2}) {
            for (int rank = 0; rank < replicas; rank++) {
                int[] labels = BatchMixingCheck.replicaLabels(TrainingData.split(cfg, conf, "train", null), rank,
                        replicas, LOCAL_BATCH, 0);
                BatchMixingCheck.assertUniform("prepared, " + replicas + " replica(s), rank " + rank,
                        BatchMixing.of(labels, LOCAL_BATCH), allLabels(), LOCAL_BATCH);
            }
        }
    }

    @Test
    void aSortedPreparedDatasetIsMixedByTheInterleaveAndWarnedAboutWithout() throws Exception {
        PretrainConfig auto = config(sorted);
        int[] labels = BatchMixingCheck.replicaLabels(TrainingData.split(auto, conf, "train", null), 1, 2,
                LOCAL_BATCH, 0);
        BatchMixingCheck.assertUniform("sorted, interleave auto", BatchMixing.of(labels, LOCAL_BATCH), allLabels(),
                LOCAL_BATCH);
        Manifest m = Manifest.read(conf, new org.apache.hadoop.fs.Path(sorted));
        long steps = CLASSES * PER_CLASS / (2 * LOCAL_BATCH);
        assertNull(StageChecks.mixingWarning(auto, conf, m, "train", LOCAL_BATCH, steps, 2));
        assertNull(StageChecks.mixingWarning(config(shuffled, "data.interleave=1"), conf, shuffledManifest,
                "train", LOCAL_BATCH, steps, 2));

        String warning = StageChecks.mixingWarning(config(sorted, "data.interleave=1"), conf, m, "train",
                LOCAL_BATCH, steps, 2);
        assertNotNull(warning);
        assertTrue(warning.contains(sorted) && warning.contains("rows stored sorted")
                && warning.contains("data.interleave (now 1)") && warning.contains("prepare"), warning);
    }
}
