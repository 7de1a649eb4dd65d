package siameseim.distributed;

import java.io.IOException;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import siameseim.checkpoint.Encoders;
import siameseim.config.ConfigError;
import siameseim.config.PretrainConfig;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.SubsetManifest;

/**
 * What the driver checks before a training stage starts, so that a mistake fails in one line
 * there instead of inside the replicas: the splits the run needs, the fine-tuning batch against
 * the replicas, the weights it starts from, and how well mixed its first batches are.
 */
final class StageChecks {
    private StageChecks() {}

    /** Fails with the key to change when the run cannot start. */
    static void beforeStage(PretrainConfig cfg, Configuration conf, Manifest m, DistributedTraining.Kind kind)
            throws IOException {
        boolean finetune = kind == DistributedTraining.Kind.FINETUNE;
        String test = cfg.eval().testSplit();
        if (finetune) {
            m.requireLabels("fine-tuning");
        } else if (cfg.eval().knn().everySteps() > 0 && m.classes().isEmpty()) {
            throw new ConfigError("eval.knn.every-steps", "the kNN monitor needs labels, and " + cfg.data().path()
                    + " has none (prepared from an input without labels, such as prepare.layout = unlabelled):"
                    + " set it to 0 to pretrain on it");
        }
        if ((finetune || cfg.eval().knn().everySteps() > 0) && !m.hasSplit(test)) {
            throw new ConfigError(finetune ? "eval.test-split" : "eval.knn.every-steps",
                    "needs the dataset's '" + test + "' split, and " + cfg.data().path() + " has only " + m.splits().keySet()
                    + " (prepared from an input without " + test + "/)");
        }
        if (finetune) {
            cfg.finetune().checkReplicas(cfg.distributed().replicas());
            if (cfg.eval().weights() != null) {
                Encoders.check(cfg.model(), cfg.eval().weights(), conf);
            }
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
        siameseim.datasets.loader.ShardSource src = ReplicaTask.data(cfg, conf, split, cfg.data().subset());
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
