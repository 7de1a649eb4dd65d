package siameseim.evaluate;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import siameseim.checkpoint.Encoders;
import siameseim.config.EvalConfig;
import siameseim.datasets.augment.EvalTransform;
import siameseim.datasets.augment.Resampler;
import siameseim.datasets.decode.BadImageException;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.loader.UniformSample;
import siameseim.datasets.shards.ImageRecord;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.ShardInfo;
import siameseim.datasets.shards.ShardReader;
import siameseim.eval.FeatureExtractor;
import siameseim.ml.EmbeddingBatches;
import siameseim.config.FeaturePool;
import siameseim.spark.SparkSessions;
import siameseim.spark.TaskDevice;

/**
 * Frozen-encoder features of a split of a prepared dataset, computed in Spark tasks (one per
 * shard): decode, evaluation transform (resize to size / 0.875, centre crop), encoder forward
 * without autograd in batches ({@link EmbeddingBatches}: the next batch decodes while the encoder
 * runs) on the task's device ({@link TaskDevice#current}: its GPU where Spark assigned one, else
 * the CPU with train.threads threads), pooling. Rows are selected by a predicate on (shard, row).
 */
public final class FeatureExtraction {
    private FeatureExtraction() {}

    /** Which rows of a shard to use. */
    public interface RowFilter extends Serializable {
        boolean keep(int shard, long row);
    }

    /**
     * Features of {@code split}: every row, or a seeded uniform sample of {@code limit} rows
     * (train.seed; a prefix of a dataset stored in class order would hold only the first classes),
     * further restricted by {@code filter}.
     */
    public static JavaRDD<FeatureRow> run(SparkSession spark, EvalConfig cfg, String split, FeaturePool pool,
            int limit, RowFilter filter, Resampler.Filter resize) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        if (cfg.weights() != null) {
            Encoders.check(cfg.model(), cfg.weights(), conf); // here, before any stage
        }
        Path root = new Path(cfg.dataPath());
        List<ShardInfo> shards = Manifest.read(conf, root).split(split).shards();
        RowFilter sample = limit > 0 ? sample(shards, limit, cfg.seed()) : null;
        RowFilter given = filter != null ? filter : (s, r) -> true;
        RowFilter keep = sample == null ? given : (s, r) -> sample.keep(s, r) && given.keep(s, r);
        return perShard(spark, root, shards, (hc, shard, index, rows) -> shardFeatures(cfg, hc, shard, index, rows,
                pool, keep, resize));
    }

    /** What a task makes of one shard: its Hadoop configuration, the shard's path, index and row count. */
    public interface ShardWork<T> extends Serializable {
        List<T> apply(Configuration conf, Path shard, int index, long rows) throws IOException;
    }

    /** {@code work} on each of a split's shards, one partition per shard, results in shard order. */
    static <T> JavaRDD<T> perShard(SparkSession spark, Path root, List<ShardInfo> shards, ShardWork<T> work)
            throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        String rootUri = root.getFileSystem(conf).makeQualified(root).toString();
        List<String> paths = shards.stream().map(ShardInfo::path).toList();
        List<long[]> tasks = new ArrayList<>(); // {shard, its rows}
        for (int s = 0; s < shards.size(); s++) {
            tasks.add(new long[] {s, shards.get(s).rows()});
        }
        Map<String, String> hadoop = SparkSessions.hadoopConf(spark);
        return JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(tasks, Math.max(1, tasks.size()))
                .mapPartitions((Iterator<long[]> it) -> {
                    Configuration hc = SparkSessions.rebuild(hadoop);
                    List<T> out = new ArrayList<>();
                    while (it.hasNext()) {
                        long[] t = it.next();
                        out.addAll(work.apply(hc, new Path(rootUri, paths.get((int) t[0])), (int) t[0], t[1]));
                    }
                    return out.iterator();
                });
    }

    /**
     * Exactly {@code limit} of the split's rows, uniformly at random (Floyd's sampling, seeded),
     * as a filter over (shard, row); all rows when the split has no more than that.
     */
    static RowFilter sample(List<ShardInfo> shards, int limit, long seed) {
        long[] offsets = new long[shards.size() + 1];
        for (int s = 0; s < shards.size(); s++) {
            offsets[s + 1] = offsets[s] + shards.get(s).rows();
        }
        java.util.BitSet chosen = UniformSample.of(offsets[shards.size()], limit, seed);
        return (s, r) -> chosen.get((int) (offsets[s] + r));
    }

    static List<FeatureRow> shardFeatures(EvalConfig c, Configuration conf, Path shard, int shardIndex, long take,
            FeaturePool pool, RowFilter keep, Resampler.Filter resize) throws IOException {
        Device device = TaskDevice.current(c.threads());
        FeatureExtractor fx = new FeatureExtractor(Encoders.cached(c.model(), c.weights(), c.seed(), conf, device),
                pool, siameseim.train.PrecisionCheck.forInference(c.precision(), device));
        ImageDecoder decoder = ImageDecoder.named(c.decoder());
        EvalTransform tf = new EvalTransform(c.model().imageSize(), resize, c.augment().mean(), c.augment().std());
        List<FeatureRow> out = new ArrayList<>();
        try (NDManager m = NDManager.newBaseManager(device);
                EmbeddingBatches<ImageRecord> batches = new EmbeddingBatches<>(fx, tf, c.batchSize(), m, EmbeddingBatches.Overlap.AUTO,
                        (rec, f) -> out.add(new FeatureRow(rec.key(), rec.label(), f)))) {
            ShardReader.scan(conf, shard, row -> row < take && keep.keep(shardIndex, row), (row, rec) -> {
                try {
                    batches.add(rec, decoder.decode(rec.image(), Long.MAX_VALUE).image());
                } catch (BadImageException e) {
                    throw new IOException(shard + " row " + row + ": " + e.getMessage(), e);
                }
                return row + 1 < take;
            });
            batches.finish();
        }
        return out;
    }
}
