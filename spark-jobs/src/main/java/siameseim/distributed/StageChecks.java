package siameseim.distributed;

import java.io.IOException;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import siameseim.checkpoint.CheckpointStore;
import siameseim.config.ConfigError;
import siameseim.config.PretrainConfig;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.SubsetManifest;
import siameseim.train.Schedule;

/**
 * What the driver checks before a training stage starts, so that a mistake fails in one line
 * there instead of inside the replicas: its paths, what its kind checks ({@link TrainingKind}),
 * the checkpoint it may resume from, and how well mixed its first batches are.
 */
final class StageChecks {
    private StageChecks() {}

    /**
     * What a training stage runs with: the config with fully qualified paths, the dataset, the
     * number of training images, the schedule over them, and the qualified {@code --resume} (or null).
     */
    record Plan(PretrainConfig cfg, Manifest manifest, long images, Schedule schedule, String resume) {}

    /**
     * The plan of a run, or a one-line failure naming the key to change: the paths it needs, the
     * checks of its kind, and the checkpoint {@code resume} names (null: none).
     */
    static Plan plan(PretrainConfig cfg, Configuration conf, TrainingKind kind, String resume) throws IOException {
        if (cfg.data().path() == null) {
            throw new ConfigError("data.path", "is not set: give the prepared dataset (--dataset DIR)");
        }
        if (cfg.train().output() == null) {
            throw new ConfigError("train.output", "is not set: give the run folder (--output DIR)");
        }
        cfg = cfg.withPaths(path -> qualified(path, conf));
        Manifest m = Manifest.read(conf, new Path(cfg.data().path()));
        long images = cfg.data().subset() == null ? m.split(kind.trainSplit(cfg)).images()
                : SubsetManifest.read(conf, new Path(cfg.data().subset())).size();
        kind.checkBeforeStage(cfg, conf, m);
        if (resume != null) {
            resume = qualified(resume, conf);
            CheckpointStore.checkExplicit(conf, resume);
        }
        Schedule schedule = kind.schedule(cfg, images);
        return new Plan(cfg, m, images, schedule, kind.resumeSeed(cfg, conf, schedule, resume));
    }

    /**
     * A path as a fully qualified URI: executors run in other working directories (and on other
     * machines), where a relative path means something else.
     */
    static String qualified(String path, Configuration conf) {
        Path p = new Path(path);
        try {
            return p.getFileSystem(conf).makeQualified(p).toString();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot resolve " + path + ": " + e.getMessage(), e);
        }
    }

    /** Fails, naming {@code key}, when the dataset has no eval.test-split. */
    static void requireSplit(PretrainConfig cfg, Manifest m, String key) {
        String test = cfg.eval().testSplit();
        if (!m.hasSplit(test)) {
            throw new ConfigError(key, "needs the dataset's '" + test + "' split, and " + cfg.data().path()
                    + " has only " + m.splits().keySet() + " (prepared from an input without " + test + "/)");
        }
    }

    /** Batches of each checked replica that {@link #mixingWarning} reads the labels of. */
    private static final int CHECKED_BATCHES = 8;

    /**
     * The labels of the first batches of replica 0 and the last replica in epoch 0's order, read
     * on the driver from the shards' label column, against uniform samples (BatchMixing); a warning
     * naming the dataset and what to do, or null.
     */
    static String mixingWarning(PretrainConfig cfg, Configuration conf, Manifest m, String split, int localBatch,
            long stepsPerEpoch, int replicas) throws IOException {
        siameseim.datasets.loader.ShardSource src = TrainingData.split(cfg, conf, split, cfg.data().subset());
        long[] perClass = cfg.data().subset() == null ? m.split(split).perClass()
                : SubsetManifest.read(conf, new Path(cfg.data().subset())).perClass();
        int take = (int) Math.min(CHECKED_BATCHES, stepsPerEpoch) * localBatch;
        int[] labels = new int[0];
        for (int r : replicas == 1 ? new int[] {0} : new int[] {0, replicas - 1}) {
            int from = Math.toIntExact(r * stepsPerEpoch * localBatch);
            int[] l = src.labels(0, cfg.train().seed(), from, from + take);
            int[] both = java.util.Arrays.copyOf(labels, labels.length + l.length);
            System.arraycopy(l, 0, both, labels.length, l.length);
            labels = both;
        }
        int interleave = cfg.data().interleaveFor(m.rowOrder().shuffled());
        String what = cfg.data().path() + " split " + split + (cfg.data().subset() == null ? ""
                : " (subset " + cfg.data().subset() + ")") + ", rows stored " + m.rowOrder();
        return siameseim.datasets.loader.BatchMixing.warning(what, siameseim.datasets.loader.BatchMixing.of(labels,
                localBatch), perClass, localBatch, String.format(Locale.ROOT, "prepare the dataset again (it"
                + " stores rows in a uniform random order, prepare.row-order = shuffled), or raise data.interleave"
                + " (now %d) and data.shuffle-window (now %d)", interleave, cfg.data().shuffleWindow()));
    }
}
