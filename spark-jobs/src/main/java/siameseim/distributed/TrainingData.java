package siameseim.distributed;

import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import siameseim.config.PretrainConfig;
import siameseim.datasets.loader.ShardSource;
import siameseim.datasets.loader.UniformSample;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.SubsetManifest;

/** The shards a training run reads, with the run's reading options (data.*): the one place they are opened. */
final class TrainingData {
    private TrainingData() {}

    /** A split (or a subset manifest of it, null: all of it) of the prepared dataset. */
    static ShardSource split(PretrainConfig cfg, Configuration conf, String split, String subset) throws IOException {
        Manifest m = Manifest.read(conf, new Path(cfg.data().path()));
        return open(cfg, conf, m, split, subset == null ? null : SubsetManifest.read(conf, new Path(subset)).rows());
    }

    /** A seeded uniform sample of {@code limit} rows of a split (all rows when 0 or more than it has). */
    static ShardSource sample(PretrainConfig cfg, Configuration conf, Manifest m, String split, int limit) {
        long[] shardRows = m.split(split).shardRows();
        return open(cfg, conf, m, split, limit > 0 ? UniformSample.rows(shardRows, limit, cfg.train().seed()) : null);
    }

    private static ShardSource open(PretrainConfig cfg, Configuration conf, Manifest m, String split, long[][] rows) {
        return new ShardSource(conf, new Path(cfg.data().path()), m, split, rows, cfg.data().shuffleWindow(),
                cfg.data().interleaveFor(m.rowOrder().shuffled()), cfg.data().readAhead());
    }
}
