package siameseim.jobs;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import siameseim.config.ConfigLoader;
import siameseim.config.PretrainConfig;
import siameseim.distributed.DistributedTraining;
import siameseim.distributed.TrainingKind;
import siameseim.events.Console;
import siameseim.events.Summary;

/** Command-line options and the closing line shared by the training jobs (pretrain, finetune). */
final class TrainingJobs {
    private TrainingJobs() {}

    /**
     * The config of a training job: --dataset, --output, --subset, --replicas and the
     * {@code extra} (option, key) pairs mapped onto their keys.
     */
    static PretrainConfig config(JobArgs a, String... extra) {
        List<String> pairs = new ArrayList<>(List.of("dataset", "data.path", "output", "train.output", "subset",
                "data.subset"));
        pairs.addAll(List.of(extra));
        List<String> sets = a.overridesWith(pairs.toArray(String[]::new));
        if (a.option("replicas", null) != null) {
            sets.add("distributed.replicas=" + a.intOption("replicas", 2));
        }
        return ConfigLoader.loadPretrain(a.confFile("pretrain-demo.conf"), sets);
    }

    /** The last line of a training job; says so when the output already held a finished run. */
    static String doneLine(TrainingKind kind, DistributedTraining.Result r) {
        String tag = kind.tag();
        String epochsKey = kind.epochsKey();
        Summary s = r.rank0();
        if (s.resumedFrom() >= 0 && s.resumedFrom() == s.steps()) {
            return String.format(Locale.ROOT, "[%s] nothing to do: the run is already complete at step %d (checkpoint"
                    + " %s); give a new --output, or raise %s to train further", tag, s.steps(), s.checkpoint(),
                    epochsKey);
        }
        return String.format(Locale.ROOT, "[%s] done: %d steps (%s), final loss %.4f, %.1f images/s over %d"
                + " replicas; checkpoint %s", tag, s.steps(), Console.duration(r.seconds()), s.finalLoss(),
                s.imagesPerSecond(), r.replicas().size(), s.checkpoint());
    }
}
