package siameseim.distributed;

import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import siameseim.checkpoint.Encoders;
import siameseim.config.PretrainConfig;
import siameseim.datasets.shards.Manifest;
import siameseim.train.Schedule;

/**
 * Fine-tuning (spec 5.2): eval.train-split, finetune.*, labels, the test split and the starting
 * weights checked on the driver; replicas run {@link FinetuneReplica}.
 */
final class Finetuning implements TrainingKind {
    private static final long serialVersionUID = 1L;

    @Override
    public String tag() {
        return "finetune";
    }

    @Override
    public String title() {
        return "fine-tuning";
    }

    @Override
    public String epochsKey() {
        return "finetune.epochs";
    }

    @Override
    public String sameStart() {
        return "config, seed and weights";
    }

    @Override
    public String trainSplit(PretrainConfig cfg) {
        return cfg.eval().trainSplit();
    }

    @Override
    public Schedule schedule(PretrainConfig cfg, long images) {
        return Schedule.of(images, cfg.finetune().batchSize(), cfg.finetune().epochs(), cfg.train().maxSteps(),
                "finetune.batch-size", "split '" + trainSplit(cfg) + "' of " + cfg.data().path());
    }

    @Override
    public void checkBeforeStage(PretrainConfig cfg, Configuration conf, Manifest m) throws IOException {
        m.requireLabels("fine-tuning");
        StageChecks.requireSplit(cfg, m, "eval.test-split");
        cfg.finetune().checkReplicas(cfg.distributed().replicas());
        if (cfg.eval().weights() != null) {
            Encoders.check(cfg.model(), cfg.eval().weights(), conf);
        }
    }

    @Override
    public ReplicaLoop.Job<?> replica(ReplicaLoop.Context ctx, Schedule schedule) throws IOException {
        PretrainConfig cfg = ctx.cfg();
        return new FinetuneReplica(ctx, schedule, TrainingData.split(cfg, ctx.hadoop(), cfg.eval().testSplit(), null),
                Manifest.read(ctx.hadoop(), new Path(cfg.data().path())).classes());
    }

    private Object readResolve() {
        return FINETUNE;
    }
}
