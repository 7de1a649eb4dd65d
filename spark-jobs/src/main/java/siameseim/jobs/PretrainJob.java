package siameseim.jobs;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.SparkSession;
import siameseim.config.ConfigLoader;
import siameseim.config.PretrainConfig;
import siameseim.distributed.DistributedTraining;
import siameseim.spark.SparkSessions;

/** bin/siameseim pretrain: SiameseIM on a prepared dataset, N replicas in one barrier stage. */
public final class PretrainJob implements Job {

    @Override
    public String name() {
        return "pretrain";
    }

    @Override
    public String summary() {
        return "distributed SiameseIM pretraining on a prepared dataset (resumes from the output's checkpoints)";
    }

    @Override
    public String usage() {
        return "--dataset DIR --output DIR [--replicas N] [--subset FILE] [--resume CHECKPOINT] [--master URL]";
    }

    /** The last line of a training job; says so when the output already held a finished run. */
    static String doneLine(String tag, DistributedTraining.Result r, String epochsKey) {
        siameseim.events.Summary s = r.rank0();
        if (s.resumedFrom() >= 0 && s.resumedFrom() == s.steps()) {
            return String.format(Locale.ROOT, "[%s] nothing to do: the run is already complete at step %d (checkpoint"
                    + " %s); give a new --output, or raise %s to train further", tag, s.steps(), s.checkpoint(),
                    epochsKey);
        }
        return String.format(Locale.ROOT, "[%s] done: %d steps (%s), final loss %.4f, %.1f images/s over %d"
                + " replicas; checkpoint %s", tag, s.steps(), siameseim.events.Console.duration(r.seconds()), s.finalLoss(),
                s.imagesPerSecond(), r.replicas().size(), s.checkpoint());
    }

    /**
     * The config of a training job: --dataset, --output, --subset, --replicas and the
     * {@code extra} (option, key) pairs mapped onto their keys.
     */
    static PretrainConfig trainingConfig(JobArgs a, String... extra) {
        List<String> sets = new ArrayList<>(a.overrides());
        PrepareJob.mapOption(a, "dataset", "data.path", sets);
        PrepareJob.mapOption(a, "output", "train.output", sets);
        PrepareJob.mapOption(a, "subset", "data.subset", sets);
        for (int i = 0; i + 1 < extra.length; i += 2) {
            PrepareJob.mapOption(a, extra[i], extra[i + 1], sets);
        }
        if (a.option("replicas", null) != null) {
            sets.add("distributed.replicas=" + a.intOption("replicas", 2));
        }
        return ConfigLoader.loadPretrain(a.confFile("pretrain-demo.conf"), sets);
    }

    @Override
    public int run(JobArgs a) throws Exception {
        a.allowOnly("dataset", "output", "replicas", "subset", "resume", "master");
        PretrainConfig cfg = trainingConfig(a);
        SparkSession spark = SparkSessions.create("siameseim pretrain", a.option("master", null));
        try {
            DistributedTraining.Result r = DistributedTraining.run(spark, cfg, a.option("resume", null),
                    System.out::println);
            System.out.println(doneLine("pretrain", r, "optim.epochs"));
        } finally {
            spark.stop();
        }
        return 0;
    }
}
