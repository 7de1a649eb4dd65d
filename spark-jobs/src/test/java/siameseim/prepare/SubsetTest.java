package siameseim.prepare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.config.ConfigLoader;
import siameseim.config.PrepareConfig;
import siameseim.datasets.loader.SampleSource;
import siameseim.datasets.loader.ShardSource;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.SubsetManifest;
import siameseim.testing.Fixtures;
import siameseim.testing.LocalSpark;

class SubsetTest {

    @Test
    void listAndPerClassSubsetsOverTheSameShards(@TempDir Path tmp) throws Exception {
        Configuration conf = new Configuration();
        org.apache.hadoop.fs.Path in = new org.apache.hadoop.fs.Path(tmp.resolve("in").toString());
        Fixtures.cleanTree(conf, in, 3, 8, 1);
        SparkSession spark = LocalSpark.start();
        try {
            DatasetPreparation.run(spark, PrepareConfig.from(ConfigLoader.load(null, List.of("prepare.input=" + in,
                    "prepare.output=" + tmp.resolve("ds"), "prepare.shard-size-mb=1", "prepare.tasks=3"))));
        } finally {
            spark.stop();
        }
        org.apache.hadoop.fs.Path ds = new org.apache.hadoop.fs.Path(tmp.resolve("ds").toString());
        Manifest m = Manifest.read(conf, ds);
        String[] cls = Fixtures.classNames(3);
        java.nio.file.Files.writeString(tmp.resolve("1percent.txt"),
                cls[0] + "_3.JPEG\n" + cls[2] + "_7.JPEG\nn99999999_1.JPEG\n");
        SubsetManifest list = SubsetManifest.fromList(conf, ds, m, "train",
                new org.apache.hadoop.fs.Path(tmp.resolve("1percent.txt").toString()));
        assertEquals(2, list.size());
        assertEquals(List.of("n99999999_1.JPEG"), list.missing());
        assertArrayEquals(new long[] {1, 0, 1}, list.perClass());

        SubsetManifest few = SubsetManifest.perClass(conf, ds, m, "train", 2, 5);
        assertEquals(6, few.size());
        assertArrayEquals(new long[] {2, 2, 2}, few.perClass());
        SubsetManifest again = SubsetManifest.perClass(conf, ds, m, "train", 2, 5);
        assertEquals(few.toJson(), again.toJson(), "same seed, same subset");
        assertTrue(!few.toJson().equals(SubsetManifest.perClass(conf, ds, m, "train", 2, 6).toJson()));

        org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(tmp.resolve("few.json").toString());
        few.write(conf, file);
        SubsetManifest read = SubsetManifest.read(conf, file);
        ShardSource src = new ShardSource(conf, ds, m, "train", read.rows(), 1000, 1, 1);
        assertEquals(6, src.size());
        Set<Integer> labels = new HashSet<>();
        int n = 0;
        try (SampleSource.Feed f = src.open(0, 0, 0, src.size())) {
            while (f.hasNext()) {
                labels.add(f.next().label());
                n++;
            }
        }
        assertEquals(6, n);
        assertEquals(Set.of(0, 1, 2), labels);
    }
}
