package siameseim.jobs;

import java.util.ArrayList;
import java.util.List;
import siameseim.config.ConfigLoader;
import siameseim.config.EvalConfig;

/** Command-line options shared by the evaluation jobs. */
final class EvalJobs {
    private EvalJobs() {}

    static final String USAGE = "--dataset DIR [--weights CHECKPOINT|SAFETENSORS (none: random init)]"
            + " [--output DIR] [--master URL]";

    /** The eval config; {@code optionToKey} pairs map further job options onto config keys. */
    static EvalConfig config(JobArgs a, String... optionToKey) {
        List<String> sets = new ArrayList<>(a.overrides());
        for (int i = 0; i + 1 < optionToKey.length; i += 2) {
            PrepareJob.mapOption(a, optionToKey[i], optionToKey[i + 1], sets);
        }
        PrepareJob.mapOption(a, "dataset", "data.path", sets);
        PrepareJob.mapOption(a, "weights", "eval.weights", sets);
        EvalConfig cfg = EvalConfig.from(ConfigLoader.load(a.confFile("pretrain-demo.conf"), sets));
        if (cfg.dataPath() == null) {
            throw new JobArgs.UsageError("--dataset DIR (a prepared dataset) is required");
        }
        return cfg;
    }
}
