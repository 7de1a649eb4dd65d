package siameseim.prepare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.config.ConfigError;
import siameseim.datasets.prepare.SourceFile;
import siameseim.datasets.prepare.SourceListing;
import siameseim.datasets.shards.ImageRecord;
import siameseim.datasets.shards.Manifest;
import siameseim.distributed.DistributedTraining;
import siameseim.testing.Fixtures;
import siameseim.testing.LocalSpark;
import siameseim.testing.PretrainFixture;

/** prepare --layout unlabelled with prepare.held-out: a seeded, unlabelled val split, refused where labels are needed. */
class UnlabelledHeldOutTest {
    static SparkSession spark;
    static Configuration conf;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start();
        conf = spark.sparkContext().hadoopConfiguration();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void aSeededFractionOfTheTreeBecomesAnUnlabelledValSplitThatLabelledJobsRefuse(@TempDir Path tmp)
            throws Exception {
        org.apache.hadoop.fs.Path in = new org.apache.hadoop.fs.Path(tmp.resolve("tree").toString());
        Fixtures.cleanTree(conf, in, 3, 20, 0); // 60 images at depth 2, read as plain folders
        Fixtures.write(conf, new org.apache.hadoop.fs.Path(in, "a/b/c/deep.jpg"), Fixtures.resource("good.jpg"));
        Set<String> expectedVal = SourceListing.unlabelled(conf, in, 0.25, 3).files().stream()
                .filter(f -> f.split().equals("val")).map(SourceFile::key).collect(Collectors.toSet());

        String ds = tmp.resolve("ds").toString();
        Manifest m = DatasetPreparation.run(spark, DatasetPreparationTest.config(in.toString(), ds,
                "prepare.layout=unlabelled", "prepare.held-out=0.25", "prepare.seed=3")).manifest();
        assertEquals(List.of(), m.classes());
        assertTrue(m.badFiles().isEmpty(), m.badFiles().toString());
        Map<String, ImageRecord> val = DatasetPreparationTest.rows(tmp.resolve("ds"), m, "val");
        Map<String, ImageRecord> train = DatasetPreparationTest.rows(tmp.resolve("ds"), m, "train");
        assertEquals(expectedVal, val.keySet());
        assertTrue(val.size() >= 5 && val.size() <= 26, val.size() + " of 61 held out at 0.25");
        assertEquals(61, train.size() + val.size());
        assertTrue(val.keySet().stream().noneMatch(train::containsKey));
        assertTrue(val.values().stream().allMatch(r -> r.label() == -1 && r.wnid().isEmpty()), "unlabelled");
        assertEquals(val.size(), m.split("val").images());
        assertTrue(m.config().toString().contains("\"held-out\":0.25"), m.config().toString());

        // the same tree and seed: the same shards, byte for byte
        Manifest again = DatasetPreparation.run(spark, DatasetPreparationTest.config(in.toString(),
                tmp.resolve("again").toString(), "prepare.layout=unlabelled", "prepare.held-out=0.25",
                "prepare.seed=3")).manifest();
        assertEquals(m.split("val").shards().stream().map(s -> s.crc32c()).toList(),
                again.split("val").shards().stream().map(s -> s.crc32c()).toList());
        assertEquals(m.split("train").shards().stream().map(s -> s.crc32c()).toList(),
                again.split("train").shards().stream().map(s -> s.crc32c()).toList());

        // kNN needs labels: the monitor and the evaluation jobs say so in one line, before any stage
        ConfigError e = assertThrows(ConfigError.class, () -> DistributedTraining.run(spark,
                PretrainFixture.config(ds, tmp.resolve("run").toString(), "eval.knn.every-steps=1"), null,
                System.out::println));
        assertTrue(e.getMessage().contains("'eval.knn.every-steps'") && e.getMessage().contains("needs labels"),
                e.getMessage());
        IllegalArgumentException knn = assertThrows(IllegalArgumentException.class,
                () -> m.requireLabels("kNN evaluation"));
        assertTrue(knn.getMessage().startsWith("kNN evaluation needs labels"), knn.getMessage());
    }

    @Test
    void noHeldOutFractionGivesOnlyATrainSplit(@TempDir Path tmp) throws Exception {
        org.apache.hadoop.fs.Path in = new org.apache.hadoop.fs.Path(tmp.resolve("tree").toString());
        Fixtures.cleanTree(conf, in, 2, 5, 0);
        Manifest m = DatasetPreparation.run(spark, DatasetPreparationTest.config(in.toString(),
                tmp.resolve("ds").toString(), "prepare.layout=unlabelled")).manifest();
        assertEquals(Set.of("train"), m.splits().keySet());
        assertEquals(10, m.split("train").images());
    }
}
