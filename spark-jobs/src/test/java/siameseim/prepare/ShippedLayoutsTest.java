package siameseim.prepare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.datasets.prepare.tar.WebDatasetWriter;
import siameseim.datasets.shards.ImageRecord;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.ShardInfo;
import siameseim.datasets.shards.ShardReader;
import siameseim.datasets.synthetic.SyntheticShapes;
import siameseim.testing.Fixtures;
import siameseim.testing.LocalSpark;
import siameseim.testing.Tars;

/**
 * Datasets as they ship, prepared in place: ImageNet's own tars (the same dataset as the
 * extracted tree), WebDataset shards with every kind of bad member, and tables in the Hugging
 * Face and binaryFile shapes.
 */
class ShippedLayoutsTest {
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

    static Manifest prepare(String in, String out, String... more) throws IOException {
        return prepare(spark, in, out, more);
    }

    static Manifest prepare(SparkSession spark, String in, String out, String... more) throws IOException {
        List<String> sets = new ArrayList<>(List.of("prepare.tasks=3"));
        sets.addAll(List.of(more));
        return DatasetPreparation.run(spark, DatasetPreparationTest.config(in, out, sets.toArray(String[]::new)))
                .manifest();
    }

    /** Every row of a split by key: label, class, size, source format and image bytes. */
    static Map<String, String> rows(Configuration c, String dataset, Manifest m, String split) throws IOException {
        Map<String, String> out = new TreeMap<>();
        for (ShardInfo s : m.split(split).shards()) {
            ShardReader.scan(c, new org.apache.hadoop.fs.Path(dataset, s.path()), r -> true, (row, rec) -> {
                out.put(rec.key(), describe(rec));
                return true;
            });
        }
        return out;
    }

    static String describe(ImageRecord r) {
        return r.label() + " " + r.wnid() + " " + r.width() + "x" + r.height() + " " + r.sourceFormat() + " "
                + Arrays.hashCode(r.image()) + "/" + r.image().length;
    }

    static Map<String, String> bad(Manifest m) {
        Map<String, String> out = new TreeMap<>();
        m.badFiles().forEach(b -> out.put(b.path(), b.reason()));
        return out;
    }

    /** ImageNet's tars give the dataset of the extracted tree: classes, labels, keys, bytes, bad files. */
    static void ilsvrcIsTheExtractedTree(SparkSession spark, Configuration c, String base) throws IOException {
        org.apache.hadoop.fs.Path tree = new org.apache.hadoop.fs.Path(base + "/tree");
        Fixtures.cleanTree(c, tree, 3, 4, 2);
        Fixtures.addRealWorldFiles(c, tree);
        tree.getFileSystem(c).delete(new org.apache.hadoop.fs.Path(tree, "train/stray.JPEG"), false);
        org.apache.hadoop.fs.Path shipped = new org.apache.hadoop.fs.Path(base + "/imagenet");
        Tars.ilsvrc(c, tree, shipped);
        // the extracted tree: train/ as it is, val/ flat with a ground-truth file (what the val tar gives)
        org.apache.hadoop.fs.Path extracted = new org.apache.hadoop.fs.Path(base + "/extracted");
        var fs = tree.getFileSystem(c);
        StringBuilder gt = new StringBuilder();
        for (var it = fs.listFiles(tree, true); it.hasNext(); ) {
            org.apache.hadoop.fs.Path f = it.next().getPath();
            String cls = f.getParent().getName();
            boolean val = f.getParent().getParent().getName().equals("val");
            byte[] bytes;
            try (var in = fs.open(f)) {
                bytes = in.readAllBytes();
            }
            Fixtures.write(c, new org.apache.hadoop.fs.Path(extracted, val ? "val/" + f.getName()
                    : "train/" + cls + "/" + f.getName()), bytes);
            if (val) {
                gt.append(f.getName()).append(' ').append(cls).append('\n');
            }
        }
        org.apache.hadoop.fs.Path gtFile = new org.apache.hadoop.fs.Path(base + "/val-gt.txt");
        Fixtures.write(c, gtFile, gt.toString().getBytes());

        Manifest fromTree = prepare(spark, extracted.toString(), base + "/ds-tree",
                "prepare.val-ground-truth=" + gtFile);
        Manifest fromTars = prepare(spark, shipped.toString(), base + "/ds-ilsvrc", "prepare.layout=ilsvrc");
        assertEquals(List.of(Fixtures.classNames(3)), fromTars.classes());
        assertEquals(fromTree.classes(), fromTars.classes());
        for (String split : List.of("train", "val")) {
            assertEquals(fromTree.split(split).images(), fromTars.split(split).images(), split);
            assertArrayEquals(fromTree.split(split).perClass(), fromTars.split(split).perClass(), split);
            Map<String, String> a = rows(c, base + "/ds-tree", fromTree, split);
            assertEquals(a, rows(c, base + "/ds-ilsvrc", fromTars, split), split);
            assertFalse(a.isEmpty());
        }
        assertEquals(12 + 4, fromTars.split("train").images(), "clean and converted images");
        assertEquals(bad(fromTree), bad(fromTars), "the same bad files under the same names");
        assertEquals(4, bad(fromTars).size());
    }

    @Test
    void imageNetsOwnTarsGiveTheDatasetOfTheExtractedTree(@TempDir Path tmp) throws Exception {
        ilsvrcIsTheExtractedTree(spark, conf, tmp.toString());
        // as a new user tries it: the tar given to the default layout says which layout reads it
        IOException hint = assertThrows(IOException.class, () -> prepare(tmp + "/imagenet/ILSVRC2012_img_train.tar",
                tmp + "/ds-hint"));
        assertTrue(hint.getMessage().contains("--layout ilsvrc"), hint.getMessage());
        // a download cut short is named
        org.apache.hadoop.fs.Path cut = new org.apache.hadoop.fs.Path(tmp + "/cut");
        byte[] whole = java.nio.file.Files.readAllBytes(tmp.resolve("imagenet/ILSVRC2012_img_train.tar"));
        Fixtures.write(conf, new org.apache.hadoop.fs.Path(cut, "ILSVRC2012_img_train.tar"),
                Arrays.copyOf(whole, whole.length / 2));
        IOException e = assertThrows(IOException.class, () -> prepare(cut.toString(), tmp + "/ds-cut",
                "prepare.layout=ilsvrc"));
        assertTrue(e.getMessage().contains("ILSVRC2012_img_train.tar") && e.getMessage().contains("cut short"),
                e.getMessage());
    }

    /** Shards from generate's writer plus a shard of bad members and one cut short. */
    static void webDatasetShards(Configuration c, org.apache.hadoop.fs.Path root) throws IOException {
        String[] names = Fixtures.classNames(3);
        WebDatasetWriter.write(c, root, "train", SyntheticShapes.dataset(3, 0, 10, 40, 5), names, 92, 8);
        WebDatasetWriter.write(c, root, "val", SyntheticShapes.dataset(3, 10, 2, 40, 5), names, 92, 8);
        byte[] good = Fixtures.resource("good.jpg");
        Map<String, byte[]> bad = new LinkedHashMap<>();
        bad.put("x/empty.jpg", new byte[0]);
        bad.put("x/empty.cls", "1".getBytes());
        bad.put("x/notes.jpg", "tench, Tinca tinca".getBytes());
        bad.put("x/notes.cls", "1".getBytes());
        bad.put("x/truncated.jpg", Arrays.copyOf(good, good.length / 2));
        bad.put("x/truncated.cls", "1".getBytes());
        bad.put("x/nolabel.jpg", good);
        bad.put("x/onlylabel.cls", "2".getBytes());
        bad.put("x/._good.jpg", "AppleDouble".getBytes());
        bad.put("x/good.jpg", good);
        bad.put("x/good.cls", "2".getBytes());
        Fixtures.write(c, new org.apache.hadoop.fs.Path(root, "train/shard-bad.tar"), Tars.tar(bad, true));
        Map<String, byte[]> cut = new LinkedHashMap<>();
        cut.put("y/a.cls", "0".getBytes());
        cut.put("y/a.jpg", good); // cut inside its data: the sample is part of the cut, not a sample without image
        byte[] whole = Tars.tar(cut, false);
        Fixtures.write(c, new org.apache.hadoop.fs.Path(root, "train/shard-cut.tar"), Arrays.copyOf(whole, 1500));
    }

    /** Bytes read so far through the Hadoop file systems of {@code fs}'s scheme, in this JVM. */
    @SuppressWarnings("deprecation") // the per-scheme Statistics every FileSystem implementation updates
    static long bytesRead(org.apache.hadoop.fs.FileSystem fs) {
        return org.apache.hadoop.fs.FileSystem.getAllStatistics().stream()
                .filter(st -> st.getScheme().equals(fs.getScheme())).mapToLong(st -> st.getBytesRead()).sum();
    }

    static void webDataset(SparkSession spark, Configuration c, String base) throws IOException {
        org.apache.hadoop.fs.Path root = new org.apache.hadoop.fs.Path(base + "/wds");
        webDatasetShards(c, root);
        org.apache.hadoop.fs.FileSystem fs = root.getFileSystem(c);
        long shardBytes = fs.getContentSummary(root).getLength();
        long read0 = bytesRead(fs);
        Manifest m = prepare(spark, root.toString(), base + "/ds-wds", "prepare.layout=webdataset");
        long read = bytesRead(fs) - read0;
        // one read of each shard (local mode: the tasks run in this JVM and count in its statistics)
        assertTrue(read >= shardBytes && read < shardBytes * 3 / 2, "read " + read + " bytes of " + shardBytes
                + " bytes of shards");
        assertEquals(List.of("0", "1", "2"), m.classes(), "class numbers from KEY.cls");
        assertEquals(30 + 1, m.split("train").images(), "30 generated and one good sample");
        assertEquals(6, m.split("val").images());
        assertEquals(Map.of("train/shard-bad.tar/x/empty.jpg", "EMPTY", "train/shard-bad.tar/x/notes.jpg",
                "NOT_AN_IMAGE", "train/shard-bad.tar/x/truncated.jpg", "TRUNCATED", "train/shard-bad.tar/x/nolabel.jpg",
                "NO_CLASS", "train/shard-bad.tar/x/onlylabel", "NOT_AN_IMAGE", "train/shard-cut.tar", "TAR_CUT_SHORT"),
                bad(m));
        Map<String, String> train = rows(c, base + "/ds-wds", m, "train");
        assertTrue(train.get("shard-000000.tar/train-00000000.jpg").startsWith("0 0 40x40 jpeg"), train.toString());
        assertTrue(train.get("shard-bad.tar/x/good.jpg").startsWith("2 2 "));

        Manifest byName = prepare(spark, root.toString(), base + "/ds-wds-json", "prepare.layout=webdataset",
                "prepare.webdataset.label-field=class");
        assertEquals(List.of(Fixtures.classNames(3)), byName.classes(), "class names from KEY.json");
        assertEquals(30, byName.split("train").images(), "the bad shard's samples have no json: no label");

        Manifest again = prepare(spark, root.toString(), base + "/ds-wds-again", "prepare.layout=webdataset");
        assertEquals(m.split("train").shards(), again.split("train").shards(), "byte-identical rerun");
        assertEquals(m.split("val").shards(), again.split("val").shards());
        Manifest pattern = prepare(spark, root + "/train/shard-{000000..000003}.tar", base + "/ds-wds-pattern",
                "prepare.layout=webdataset", "prepare.webdataset.val-shards=" + root + "/val");
        assertEquals(30, pattern.split("train").images());
        assertEquals(6, pattern.split("val").images());
    }

    @Test
    void webDatasetShardsAreGroupedIntoSamplesAndEveryBadMemberIsReported(@TempDir Path tmp) throws Exception {
        webDataset(spark, conf, tmp.toString());
        IOException hint = assertThrows(IOException.class, () -> prepare(tmp + "/wds/train", tmp + "/ds-hint",
                "prepare.layout=unlabelled"));
        assertTrue(hint.getMessage().contains("--layout webdataset"), hint.getMessage());
        IOException e = assertThrows(IOException.class, () -> prepare(tmp + "/wds", tmp + "/strict",
                "prepare.layout=webdataset", "prepare.max-bad-fraction=0.01"));
        assertTrue(e.getMessage().contains("TAR_CUT_SHORT=1"), e.getMessage());
        assertFalse(java.nio.file.Files.exists(tmp.resolve("strict")));
    }

    /** A table in the Hub's schema (struct image, integer label), written by Spark, with its footer metadata. */
    static void huggingFace(SparkSession spark, Configuration c, String base) throws IOException {
        String[] names = {"tench", "goldfish", "shark"};
        List<Row> rows = new ArrayList<>();
        var shapes = SyntheticShapes.dataset(3, 0, 4, 40, 5);
        var enc = siameseim.datasets.decode.ImageDecoder.named("opencv");
        for (int i = 0; i < shapes.size(); i++) {
            rows.add(RowFactory.create(RowFactory.create(enc.encodeJpeg(shapes.image(i), 90), "img_" + i + ".jpg"),
                    i == 0 ? -1L : (long) shapes.label(i)));
        }
        StructType schema = new StructType().add("image", new StructType().add("bytes", "binary").add("path", "string"))
                .add("label", "long");
        String plain = base + "/hub-spark";
        spark.createDataFrame(rows, schema).repartition(2).write().parquet(plain);
        Manifest numbers = prepare(spark, plain, base + "/ds-hub-numbers", "prepare.layout=table");
        assertEquals(List.of("0", "1", "2"), numbers.classes(), "no metadata: the sorted numbers");
        assertEquals(11, numbers.split("train").images());
        assertEquals(Map.of("train/img_0.jpg", "NO_CLASS"), bad(numbers), "label -1 is no label");

        String hub = base + "/hub";
        String meta = "{\"info\": {\"features\": {\"image\": {\"_type\": \"Image\"}, \"label\": {\"names\": [\"tench\","
                + " \"goldfish\", \"shark\"], \"_type\": \"ClassLabel\"}}}}";
        HubMetadata.copyWith(c, new org.apache.hadoop.fs.Path(plain), new org.apache.hadoop.fs.Path(hub), meta);
        Manifest named = prepare(spark, hub, base + "/ds-hub", "prepare.layout=table");
        assertEquals(List.of(names), named.classes(), "ClassLabel names, in the Hub's order");
        Map<String, String> got = rows(c, base + "/ds-hub", named, "train");
        assertTrue(got.get("img_1.jpg").startsWith(shapes.label(1) + " " + names[shapes.label(1)] + " "),
                got.toString());
        assertEquals(11, got.size());
    }

    @Test
    void hubParquetTakesItsClassNamesFromTheFooterAndBinaryFileTablesFromFolders(@TempDir Path tmp) throws Exception {
        huggingFace(spark, conf, tmp.toString());
        org.apache.hadoop.fs.Path tree = new org.apache.hadoop.fs.Path(tmp + "/tree");
        Fixtures.cleanTree(conf, tree, 2, 3, 1);
        Manifest m = prepare(tree + "/train", tmp + "/ds-binary", "prepare.layout=table",
                "prepare.table-format=binaryFile", "prepare.table.label-from-path=true");
        assertEquals(List.of(Fixtures.classNames(2)), m.classes());
        assertEquals(6, m.split("train").images());
        Map<String, String> got = rows(conf, tmp + "/ds-binary", m, "train");
        String c1 = Fixtures.classNames(2)[1];
        assertTrue(got.keySet().stream().allMatch(k -> k.startsWith("file:")), got.keySet().toString());
        assertEquals(3, got.values().stream().filter(v -> v.startsWith("1 " + c1 + " ")).count());
        IOException e = assertThrows(IOException.class, () -> prepare(tree + "/train", tmp + "/ds-x",
                "prepare.layout=table", "prepare.table-format=binaryFile", "prepare.table.image-column=pixels"));
        assertTrue(e.getMessage().contains("'pixels'"), e.getMessage());
    }

    @Test
    void generateWritesTheBuiltInDataAsWebDatasetShardsThatPrepareReads(@TempDir Path tmp) throws Exception {
        String[] gen = {"--classes", "3", "--train-per-class", "5", "--val-per-class", "2", "--format", "webdataset",
            "--shard-size", "4", "--size", "32"};
        for (String out : List.of("a", "b")) {
            List<String> args = new ArrayList<>(List.of("--output", tmp.resolve(out).toString()));
            args.addAll(List.of(gen));
            siameseim.jobs.Jobs.run(spark, "generate", args.toArray(String[]::new));
        }
        assertEquals(4, java.nio.file.Files.list(tmp.resolve("a/train")).count(), "15 images in shards of 4");
        for (String shard : List.of("train/shard-000000.tar", "train/shard-000003.tar", "val/shard-000001.tar")) {
            assertArrayEquals(java.nio.file.Files.readAllBytes(tmp.resolve("a").resolve(shard)),
                    java.nio.file.Files.readAllBytes(tmp.resolve("b").resolve(shard)), "same shards: " + shard);
        }
        siameseim.jobs.Jobs.run(spark, "prepare", "--input", tmp.resolve("a").toString(), "--output",
                tmp.resolve("ds").toString(), "--layout", "webdataset");
        Manifest m = Manifest.read(conf, new org.apache.hadoop.fs.Path(tmp.resolve("ds").toString()));
        assertEquals(List.of("0", "1", "2"), m.classes());
        assertEquals(15, m.split("train").images());
        assertEquals(6, m.split("val").images());
        assertEquals(List.of(), m.badFiles());
    }
}
