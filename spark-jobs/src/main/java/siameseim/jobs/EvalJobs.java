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
        List<String> pairs = new ArrayList<>(List.of(optionToKey));
        pairs.addAll(List.of("dataset", "data.path", "weights", "eval.weights"));
        EvalConfig cfg = EvalConfig.from(ConfigLoader.load(a.confFile("pretrain-demo.conf"),
                a.overridesWith(pairs.toArray(String[]::new))));
        if (cfg.dataPath() == null) {
            throw new JobArgs.UsageError("--dataset DIR (a prepared dataset) is required");
        }
        return cfg;
    }
}
