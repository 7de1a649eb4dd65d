package siameseim.distributed;

import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import siameseim.checkpoint.OfficialCheckpoint;
import siameseim.config.ConfigError;
import siameseim.config.PretrainConfig;
import siameseim.datasets.shards.Manifest;
import siameseim.train.Schedule;

/** SiameseIM pretraining: data.split, optim.*, the kNN monitor's checks; replicas run {@link PretrainReplica}. */
final class Pretraining implements TrainingKind {
    private static final long serialVersionUID = 1L;

    @Override
    public String tag() {
        return "pretrain";
    }

    @Override
    public String title() {
        return "SiameseIM pretraining";
    }

    @Override
    public String epochsKey() {
        return "optim.epochs";
    }

    @Override
    public String sameStart() {
        return "config and seed";
    }

    @Override
    public String trainSplit(PretrainConfig cfg) {
        return cfg.data().split();
    }

    @Override
    public Schedule schedule(PretrainConfig cfg, long images) {
        return Schedule.of(images, cfg.optim().batchSize(), cfg.optim().epochs(), cfg.train().maxSteps(),
                "optim.batch-size", "split '" + trainSplit(cfg) + "' of " + cfg.data().path());
    }

    @Override
    public void checkBeforeStage(PretrainConfig cfg, Configuration conf, Manifest m) {
        if (cfg.eval().knn().everySteps() == 0) {
            return;
        }
        if (m.classes().isEmpty()) {
            throw new ConfigError("eval.knn.every-steps", "the kNN monitor needs labels, and " + cfg.data().path()
                    + " has none (prepared from an input without labels, such as prepare.layout = unlabelled):"
                    + " set it to 0 to pretrain on it");
        }
        StageChecks.requireSplit(cfg, m, "eval.knn.every-steps");
    }

    /**
     * A training checkpoint of the official code ({@code checkpoint-N.pth}) becomes a checkpoint of
     * ours under {@code <train.output>/imported/} ({@link OfficialCheckpoint}: weights, target,
     * AdamW moments, step), which then seeds the run as any checkpoint does.
     */
    @Override
    public String resumeSeed(PretrainConfig cfg, Configuration conf, Schedule schedule, String resume)
            throws IOException {
        if (resume == null || !OfficialCheckpoint.isTorch(conf, resume)) {
            return resume;
        }
        OfficialCheckpoint.Imported i = OfficialCheckpoint.importSeed(conf, resume, cfg, schedule.stepsPerEpoch(),
                new org.apache.hadoop.fs.Path(cfg.train().output(), "imported"));
        System.out.printf(java.util.Locale.ROOT, "[pretrain] --resume %s: the official checkpoint as %s (step %d,"
                + " %d tensors, moments of %d, AdamW step %d)%n", resume, i.path(), i.step(), i.tensors(), i.moments(),
                i.optimizerSteps());
        return i.path();
    }

    @Override
    public ReplicaLoop.Job<?> replica(ReplicaLoop.Context ctx, Schedule schedule) throws IOException {
        return new PretrainReplica(ctx, schedule, KnnMonitor.of(ctx.cfg(), ctx.hadoop()));
    }

    private Object readResolve() {
        return PRETRAIN;
    }
}
