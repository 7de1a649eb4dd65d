package siameseim.jobs;

import siameseim.config.ConfigLoader;
import siameseim.config.EvalConfig;

/** Command-line options shared by the evaluation jobs. */
final class EvalJobs {
    private EvalJobs() {}

    static final String USAGE = "--dataset DIR [--weights CHECKPOINT|SAFETENSORS (none: random init)]"
            + " [--output DIR] [--master URL]";

    /** The eval config; {@code optionToKey} pairs map further job options onto config keys. */
    static EvalConfig config(JobArgs a, String... optionToKey) {
        String[] all = java.util.Arrays.copyOf(optionToKey, optionToKey.length + 4);
        System.arraycopy(new String[] {"dataset", "data.path", "weights", "eval.weights"}, 0, all, optionToKey.length, 4);
        EvalConfig cfg = EvalConfig.from(ConfigLoader.load(a.confFile("pretrain-demo.conf"), a.overridesWith(all)));
        if (cfg.dataPath() == null) {
            throw new JobArgs.UsageError("--dataset DIR (a prepared dataset) is required");
        }
        return cfg;
    }
}
