package siameseim.prepare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.config.ConfigLoader;
import siameseim.config.PrepareConfig;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.decode.ImageHeader;
import siameseim.datasets.shards.ImageRecord;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.ShardInfo;
import siameseim.datasets.shards.ShardReader;
import siameseim.testing.Fixtures;
import siameseim.testing.LocalSpark;

/** The prepare job on local files, with every kind of bad or odd input file. */
class DatasetPreparationTest {
    static SparkSession spark;
    static Configuration conf = new Configuration();

    @BeforeAll
    static void start() {
        spark = LocalSpark.start();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static PrepareConfig config(String in, String out, String... more) {
        List<String> sets = new ArrayList<>(List.of("prepare.input=" + in, "prepare.output=" + out,
                "prepare.max-bad-fraction=0.5", "prepare.shard-size-mb=1"));
        sets.addAll(List.of(more));
        return PrepareConfig.from(ConfigLoader.load(null, sets));
    }

    static Map<String, ImageRecord> rows(Path dataset, Manifest m, String split) throws IOException {
        Map<String, ImageRecord> out = new HashMap<>();
        for (ShardInfo s : m.split(split).shards()) {
            ShardReader.scan(conf, new org.apache.hadoop.fs.Path(dataset.toString(), s.path()), r -> true,
                    (row, rec) -> {
                        out.put(rec.key(), rec);
                        return true;
                    });
        }
        return out;
    }

    @Test
    void everyKindOfFileIsConvertedOrReportedAndTheRunIsDeterministic(@TempDir Path tmp) throws Exception {
        org.apache.hadoop.fs.Path in = new org.apache.hadoop.fs.Path(tmp.resolve("in").toString());
        Fixtures.cleanTree(conf, in, 4, 6, 2);
        Fixtures.addRealWorldFiles(conf, in);
        Path out = tmp.resolve("ds");
        DatasetPreparation.Report r = DatasetPreparation.run(spark, config(in.toString(), out.toString()));
        Manifest m = r.manifest();
        assertEquals(List.of(Fixtures.classNames(4)), m.classes());
        assertEquals(24 + 4, m.split("train").images(), "24 clean + CMYK, grey, PNG and GIF converted");
        assertEquals(10, m.split("train").perClass()[0]);
        assertEquals(8, m.split("val").images());
        Map<String, String> bad = new HashMap<>();
        m.badFiles().forEach(b -> bad.put(b.path(), b.reason()));
        String c0 = Fixtures.classNames(1)[0];
        assertEquals(Map.of("train/" + c0 + "/empty.JPEG", "EMPTY", "train/" + c0 + "/truncated.JPEG", "TRUNCATED",
                "train/" + c0 + "/notes.JPEG", "NOT_AN_IMAGE", "train/" + c0 + "/huge.JPEG", "TOO_LARGE",
                "train/stray.JPEG", "NO_CLASS"), bad);

        Map<String, ImageRecord> train = rows(out, m, "train");
        assertEquals(28, train.size());
        ImageRecord cmyk = train.get(c0 + "/cmyk.JPEG");
        assertEquals("jpeg/cmyk", cmyk.sourceFormat());
        assertEquals("jpeg", ImageHeader.sniff(cmyk.image()).format());
        assertEquals(3, ImageDecoder.named("opencv").decode(cmyk.image(), 1_000_000).image().data().length / (40 * 30));
        assertEquals("png", train.get(c0 + "/really-a-png.JPEG").sourceFormat());
        assertEquals("gif", train.get(c0 + "/palette.JPEG").sourceFormat());
        assertEquals(0, train.get(c0 + "/cmyk.JPEG").label());
        // untouched RGB JPEGs keep their bytes
        String clean = c0 + "/" + c0 + "_0.JPEG";
        assertTrue(java.util.Arrays.equals(java.nio.file.Files.readAllBytes(tmp.resolve("in/train/" + clean)),
                train.get(clean).image()));

        Path again = tmp.resolve("again");
        Manifest m2 = DatasetPreparation.run(spark, config(in.toString(), again.toString())).manifest();
        assertEquals(m.split("train").shards(), m2.split("train").shards(), "same shards, same checksums");
        assertFalse(java.nio.file.Files.exists(tmp.resolve(".ds.preparing")), "staging folder removed");

        // rows are stored in a seeded uniform order: another seed, the same rows in another order
        assertEquals(new Manifest.RowOrder(Manifest.RowOrder.SHUFFLED, 0), m.rowOrder());
        Path seed1 = tmp.resolve("seed1");
        Manifest m3 = DatasetPreparation.run(spark, config(in.toString(), seed1.toString(), "prepare.seed=1"))
                .manifest();
        assertEquals(new Manifest.RowOrder(Manifest.RowOrder.SHUFFLED, 1), m3.rowOrder());
        List<String> order0 = keysInStoredOrder(out, m);
        List<String> order1 = keysInStoredOrder(seed1, m3);
        assertFalse(order0.equals(order1), "another seed, another order");
        assertEquals(new java.util.TreeSet<>(order0), new java.util.TreeSet<>(order1));
        List<String> sorted = new ArrayList<>(order0);
        java.util.Collections.sort(sorted);
        assertFalse(order0.equals(sorted), "not in listing order");
        assertEquals(sorted, keysInStoredOrder(tmp.resolve("sorted"), DatasetPreparation.run(spark,
                config(in.toString(), tmp.resolve("sorted").toString(), "prepare.row-order=sorted")).manifest()),
                "row-order = sorted keeps the listing's order");
    }

    /** Keys of a split's rows, shard after shard in manifest order. */
    static List<String> keysInStoredOrder(Path dataset, Manifest m) throws IOException {
        List<String> keys = new ArrayList<>();
        for (ShardInfo s : m.split("train").shards()) {
            ShardReader.keys(conf, new org.apache.hadoop.fs.Path(dataset.toString(), s.path()))
                    .forEach(k -> keys.add(k.key()));
        }
        return keys;
    }

    @Test
    void tooManyBadFilesFailsAndWritesNothing(@TempDir Path tmp) throws Exception {
        org.apache.hadoop.fs.Path in = new org.apache.hadoop.fs.Path(tmp.resolve("in").toString());
        Fixtures.cleanTree(conf, in, 2, 3, 1);
        Fixtures.addRealWorldFiles(conf, in);
        Path out = tmp.resolve("ds");
        IOException e = assertThrows(IOException.class, () -> DatasetPreparation.run(spark,
                config(in.toString(), out.toString(), "prepare.max-bad-fraction=0.01")));
        assertTrue(e.getMessage().contains("5 of 17 input files") && e.getMessage().contains("TRUNCATED=1")
                && e.getMessage().contains("nothing was written"), e.getMessage());
        assertFalse(java.nio.file.Files.exists(out));
        assertFalse(java.nio.file.Files.exists(tmp.resolve(".ds.preparing")));
    }

    @Test
    void flatValidationFolderWithGroundTruthFile(@TempDir Path tmp) throws Exception {
        org.apache.hadoop.fs.Path in = new org.apache.hadoop.fs.Path(tmp.resolve("in").toString());
        Fixtures.cleanTree(conf, in, 2, 2, 0);
        String[] cls = Fixtures.classNames(2);
        byte[] good = Fixtures.resource("good.jpg");
        Fixtures.write(conf, new org.apache.hadoop.fs.Path(in, "val/ILSVRC2012_val_00000001.JPEG"), good);
        Fixtures.write(conf, new org.apache.hadoop.fs.Path(in, "val/ILSVRC2012_val_00000002.JPEG"), good);
        Fixtures.write(conf, new org.apache.hadoop.fs.Path(in, "val/ILSVRC2012_val_00000003.JPEG"), good);
        Fixtures.write(conf, new org.apache.hadoop.fs.Path(tmp.toString(), "gt.txt"),
                ("ILSVRC2012_val_00000001.JPEG " + cls[1] + "\nILSVRC2012_val_00000002.JPEG " + cls[0] + "\n")
                        .getBytes());
        Manifest m = DatasetPreparation.run(spark, config(in.toString(), tmp.resolve("ds").toString(),
                "prepare.val-ground-truth=" + tmp.resolve("gt.txt"))).manifest();
        assertEquals(2, m.split("val").images());
        assertEquals(1, m.split("val").perClass()[1]);
        assertEquals("val/ILSVRC2012_val_00000003.JPEG", m.badFiles().get(0).path());
        assertEquals("NO_CLASS", m.badFiles().get(0).reason());
    }

    @Test
    void aTreeWithoutValIsPreparedAsTrainOnlyAndEvaluationsNameTheMissingSplit(@TempDir Path tmp) throws Exception {
        org.apache.hadoop.fs.Path in = new org.apache.hadoop.fs.Path(tmp.resolve("in").toString());
        Fixtures.cleanTree(conf, in, 2, 3, 0);
        in.getFileSystem(conf).delete(new org.apache.hadoop.fs.Path(in, "val"), true);
        Manifest m = DatasetPreparation.run(spark, config(in.toString(), tmp.resolve("ds").toString())).manifest();
        assertEquals(6, m.split("train").images());
        assertFalse(m.hasSplit("val"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.split("val"));
        assertTrue(e.getMessage().contains("no split 'val'") && e.getMessage().contains("no val/ folder"),
                e.getMessage());
        in.getFileSystem(conf).delete(new org.apache.hadoop.fs.Path(in, "train"), true);
        IOException noTrain = assertThrows(IOException.class, () -> DatasetPreparation.run(spark,
                config(in.toString(), tmp.resolve("ds2").toString())));
        assertTrue(noTrain.getMessage().contains("has no train/ folder"), noTrain.getMessage());
    }

    @Test
    void indexFilesListImagesWithOptionalLabelsAndSplits(@TempDir Path tmp) throws Exception {
        org.apache.hadoop.fs.Path in = new org.apache.hadoop.fs.Path(tmp.resolve("in").toString());
        Fixtures.cleanTree(conf, in, 2, 3, 1);
        String[] cls = Fixtures.classNames(2);
        StringBuilder csv = new StringBuilder("path,label,split\n");
        for (int c = 0; c < 2; c++) {
            for (int i = 0; i < 3; i++) {
                csv.append("train/").append(cls[c]).append('/').append(cls[c]).append('_').append(i).append(".JPEG,")
                        .append(cls[c]).append(",train\n"); // relative to the index's folder
            }
            csv.append(tmp.resolve("in/val/" + cls[c] + "/" + cls[c] + "_0.JPEG")).append(',').append(cls[c])
                    .append(",val\n"); // absolute
        }
        csv.append("train/missing.jpg,").append(cls[0]).append(",train\n");
        csv.append("train/").append(cls[1]).append('/').append(cls[1]).append("_0.JPEG,,train\n");
        java.nio.file.Files.writeString(tmp.resolve("in/index.csv"), csv);
        Manifest m = DatasetPreparation.run(spark, config(tmp.resolve("in/index.csv").toString(),
                tmp.resolve("ds").toString(), "prepare.layout=index")).manifest();
        assertEquals(List.of(cls[0], cls[1]), m.classes());
        assertEquals(6, m.split("train").images());
        assertEquals(2, m.split("val").images());
        assertEquals(1, m.split("val").perClass()[1]);
        assertEquals(List.of("NO_CLASS", "UNREADABLE"), m.badFiles().stream().map(Manifest.BadFile::reason).sorted()
                .toList(), m.badFiles().toString());

        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            jsonl.append("{\"path\": \"train/").append(cls[0]).append('/').append(cls[0]).append('_').append(i)
                    .append(".JPEG\"}\n");
        }
        java.nio.file.Files.writeString(tmp.resolve("in/unlabelled.jsonl"), jsonl);
        Manifest u = DatasetPreparation.run(spark, config(tmp.resolve("in/unlabelled.jsonl").toString(),
                tmp.resolve("ds2").toString(), "prepare.layout=index")).manifest();
        assertEquals(List.of(), u.classes());
        assertEquals(3, u.split("train").images());
        assertFalse(u.hasSplit("val"));

        java.nio.file.Files.writeString(tmp.resolve("in/bad.csv"), "file,label\nx.jpg,a\n");
        IOException e = assertThrows(IOException.class, () -> DatasetPreparation.run(spark,
                config(tmp.resolve("in/bad.csv").toString(), tmp.resolve("ds3").toString(), "prepare.layout=index")));
        assertTrue(e.getMessage().contains("bad.csv") && e.getMessage().contains("no 'path' column"), e.getMessage());
    }

    @Test
    void aSparkTableOfEncodedImagesIsPreparedByTheExecutorsDeterministically(@TempDir Path tmp) throws Exception {
        Fixtures.cleanTree(conf, new org.apache.hadoop.fs.Path(tmp.resolve("in").toString()), 2, 4, 1);
        List<org.apache.spark.sql.Row> rows = new ArrayList<>();
        try (var files = java.nio.file.Files.walk(tmp.resolve("in"))) {
            for (Path f : files.filter(java.nio.file.Files::isRegularFile).sorted().toList()) {
                Path rel = tmp.resolve("in").relativize(f);
                rows.add(org.apache.spark.sql.RowFactory.create(rel.toString(), rel.getName(1).toString(),
                        rel.getName(0).toString(), java.nio.file.Files.readAllBytes(f)));
            }
        }
        String[] cls = Fixtures.classNames(2);
        rows.add(org.apache.spark.sql.RowFactory.create("bad", cls[0], "train", "not an image".getBytes()));
        org.apache.spark.sql.types.StructType schema = new org.apache.spark.sql.types.StructType()
                .add("key", "string").add("label", "string").add("split", "string").add("image", "binary");
        String table = tmp.resolve("table").toString();
        spark.createDataFrame(rows, schema).repartition(3).write().parquet(table);
        Manifest m = DatasetPreparation.run(spark, config(table, tmp.resolve("ds").toString(), "prepare.layout=table"))
                .manifest();
        assertEquals(List.of(cls[0], cls[1]), m.classes());
        assertEquals(8, m.split("train").images());
        assertEquals(2, m.split("val").images());
        assertEquals(List.of("train/bad"), m.badFiles().stream().map(Manifest.BadFile::path).toList());
        Manifest again = DatasetPreparation.run(spark, config(table, tmp.resolve("ds2").toString(),
                "prepare.layout=table")).manifest();
        assertEquals(keysInOrder(tmp.resolve("ds"), m), keysInOrder(tmp.resolve("ds2"), again),
                "the same table and seed give the same stored order");
        assertEquals(8, new java.util.HashSet<>(keysInOrder(tmp.resolve("ds"), m)).size());
    }

    static List<String> keysInOrder(Path dataset, Manifest m) throws IOException {
        List<String> keys = new ArrayList<>();
        for (ShardInfo s : m.split("train").shards()) {
            ShardReader.scan(conf, new org.apache.hadoop.fs.Path(dataset.toString(), s.path()), r -> true,
                    (row, rec) -> {
                        keys.add(rec.key());
                        return true;
                    });
        }
        return keys;
    }

    @Test
    void resizeShrinksTheShorterSide(@TempDir Path tmp) throws Exception {
        org.apache.hadoop.fs.Path in = new org.apache.hadoop.fs.Path(tmp.resolve("in").toString());
        Fixtures.cleanTree(conf, in, 2, 2, 1);
        Manifest m = DatasetPreparation.run(spark, config(in.toString(), tmp.resolve("ds").toString(),
                "prepare.resize-shorter-side=24")).manifest();
        for (ImageRecord r : rows(tmp.resolve("ds"), m, "train").values()) {
            assertEquals(24, Math.min(r.width(), r.height()));
            assertEquals(24, ImageHeader.sniff(r.image()).width());
        }
    }

    @Test
    void missingInputAndLayoutErrorsAreNamed(@TempDir Path tmp) {
        IOException e = assertThrows(IOException.class, () -> DatasetPreparation.run(spark,
                config(tmp.resolve("nope").toString(), tmp.resolve("ds").toString())));
        assertTrue(e.getMessage().contains("does not exist") && e.getMessage().contains("nope"), e.getMessage());
    }
}
