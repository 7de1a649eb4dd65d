package siameseim.prepare;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.config.ConfigLoader;
import siameseim.config.PrepareConfig;
import siameseim.datasets.loader.RawSample;
import siameseim.datasets.loader.SampleSource;
import siameseim.datasets.loader.ShardSource;
import siameseim.datasets.shards.Manifest;
import siameseim.testing.Fixtures;
import siameseim.testing.LocalSpark;
import siameseim.testing.MiniHdfs;
import siameseim.testing.S3Proxy;

/**
 * prepare, then stream the shards back, on a real HDFS and through S3A against s3proxy; and each
 * other kind of input (unlabelled tree, index file, table, ImageNet's tars, WebDataset shards,
 * Hugging Face Parquet) read from the same store.
 */
class PrepareOnHdfsAndS3Test {
    static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static void prepareAndStream(String base, Configuration conf) throws Exception {
        org.apache.hadoop.fs.Path in = new org.apache.hadoop.fs.Path(base + "/in");
        Fixtures.cleanTree(conf, in, 3, 5, 2);
        Fixtures.addRealWorldFiles(conf, in);
        PrepareConfig cfg = PrepareConfig.from(ConfigLoader.load(null, List.of("prepare.input=" + in,
                "prepare.output=" + base + "/ds", "prepare.max-bad-fraction=0.5", "prepare.shard-size-mb=1",
                "prepare.tasks=3")));
        Manifest m = DatasetPreparation.run(spark, cfg).manifest();
        assertEquals(15 + 4, m.split("train").images());
        assertEquals(5, m.badFiles().size());

        org.apache.hadoop.fs.Path ds = new org.apache.hadoop.fs.Path(base + "/ds");
        Manifest read = Manifest.read(conf, ds);
        assertEquals(m.toJson(), read.toJson());
        ShardSource src = new ShardSource(conf, ds, read, "train", null, 4, 1, 2);
        Set<Integer> ids = new HashSet<>();
        List<Integer> labels = new ArrayList<>();
        try (SampleSource.Feed f = src.open(0, 1, 0, src.size())) {
            while (f.hasNext()) {
                RawSample s = f.next();
                ids.add(s.id());
                labels.add(s.label());
                assertEquals(true, s.encoded().length > 100);
            }
        }
        assertEquals(19, ids.size(), "every training image once per epoch");
        assertEquals(5 + 4, labels.stream().filter(l -> l == 0).count());
    }

    static Manifest prepare(String input, String output, String layout) throws Exception {
        return DatasetPreparation.run(spark, PrepareConfig.from(ConfigLoader.load(null, List.of("prepare.input=" + input,
                "prepare.output=" + output, "prepare.layout=" + layout, "prepare.tasks=2")))).manifest();
    }

    /** The other three kinds of input, read from the same store: an unlabelled tree, an index file, a table. */
    static void otherLayouts(String base, Configuration conf) throws Exception {
        org.apache.hadoop.fs.Path tree = new org.apache.hadoop.fs.Path(base + "/tree");
        Fixtures.cleanTree(conf, tree, 2, 3, 1);
        String[] cls = Fixtures.classNames(2);

        Manifest unlabelled = prepare(tree.toString(), base + "/ds-unlabelled", "unlabelled");
        assertEquals(List.of(), unlabelled.classes());
        assertEquals(8, unlabelled.split("train").images(), "every image at any depth");

        StringBuilder csv = new StringBuilder("path,label\n");
        for (String c : cls) {
            for (int i = 0; i < 3; i++) {
                csv.append("train/").append(c).append('/').append(c).append('_').append(i).append(".JPEG,").append(c)
                        .append('\n');
            }
        }
        org.apache.hadoop.fs.Path index = new org.apache.hadoop.fs.Path(tree, "index.csv");
        Fixtures.write(conf, index, csv.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Manifest indexed = prepare(index.toString(), base + "/ds-index", "index");
        assertEquals(List.of(cls[0], cls[1]), indexed.classes());
        assertEquals(6, indexed.split("train").images());

        List<org.apache.spark.sql.Row> rows = new ArrayList<>();
        org.apache.hadoop.fs.FileSystem fs = tree.getFileSystem(conf);
        for (var it = fs.listFiles(tree, true); it.hasNext(); ) {
            org.apache.hadoop.fs.Path f = it.next().getPath();
            if (f.getName().endsWith(".JPEG")) {
                try (var in = fs.open(f)) {
                    rows.add(org.apache.spark.sql.RowFactory.create(f.getName(), f.getParent().getName(),
                            f.getParent().getParent().getName(), in.readAllBytes()));
                }
            }
        }
        org.apache.spark.sql.types.StructType schema = new org.apache.spark.sql.types.StructType()
                .add("key", "string").add("label", "string").add("split", "string").add("image", "binary");
        spark.createDataFrame(rows, schema).repartition(2).write().parquet(base + "/table");
        Manifest table = prepare(base + "/table", base + "/ds-table", "table");
        assertEquals(List.of(cls[0], cls[1]), table.classes());
        assertEquals(6, table.split("train").images());
        assertEquals(2, table.split("val").images());
    }

    /** Datasets as they ship, from the same store: ImageNet's tars, WebDataset shards, Hugging Face Parquet. */
    static void shippedLayouts(String base, Configuration conf) throws Exception {
        ShippedLayoutsTest.ilsvrcIsTheExtractedTree(spark, conf, base);
        ShippedLayoutsTest.webDataset(spark, conf, base);
        ShippedLayoutsTest.huggingFace(spark, conf, base);
    }

    @Test
    void onHdfs(@TempDir Path tmp) throws Exception {
        try (MiniHdfs hdfs = new MiniHdfs(tmp.toFile())) {
            prepareAndStream(hdfs.uri() + "/imagenet", spark.sparkContext().hadoopConfiguration());
            otherLayouts(hdfs.uri() + "/other", spark.sparkContext().hadoopConfiguration());
            shippedLayouts(hdfs.uri() + "/shipped", spark.sparkContext().hadoopConfiguration());
        }
    }

    @Test
    void onS3(@TempDir Path tmp) throws Exception {
        try (S3Proxy s3 = new S3Proxy(tmp, "data")) {
            Configuration conf = spark.sparkContext().hadoopConfiguration();
            s3.configure(conf);
            prepareAndStream("s3a://data/imagenet", conf);
            otherLayouts("s3a://data/other", conf);
            shippedLayouts("s3a://data/shipped", conf);
        }
    }
}
