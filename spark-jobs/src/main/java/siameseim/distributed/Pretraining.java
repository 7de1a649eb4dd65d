package siameseim.distributed;

import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
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

    @Override
    public ReplicaLoop.Job<?> replica(ReplicaLoop.Context ctx, Schedule schedule) throws IOException {
        return new PretrainReplica(ctx, schedule, KnnMonitor.of(ctx.cfg(), ctx.hadoop()));
    }

    private Object readResolve() {
        return PRETRAIN;
    }
}
