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

/** prepare, then stream the shards back, on a real HDFS and through S3A against s3proxy. */
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

    @Test
    void onHdfs(@TempDir Path tmp) throws Exception {
        try (MiniHdfs hdfs = new MiniHdfs(tmp.toFile())) {
            prepareAndStream(hdfs.uri() + "/imagenet", spark.sparkContext().hadoopConfiguration());
        }
    }

    @Test
    void onS3(@TempDir Path tmp) throws Exception {
        try (S3Proxy s3 = new S3Proxy(tmp, "data")) {
            Configuration conf = spark.sparkContext().hadoopConfiguration();
            s3.configure(conf);
            prepareAndStream("s3a://data/imagenet", conf);
        }
    }
}
