package siameseim.config;

import com.typesafe.config.Config;

/** Everything a pretraining run reads, validated once at load time. */
public record PretrainConfig(
        ModelConfig model,
        MaskConfig mask,
        double negWeight,
        Ema ema,
        OptimConfig optim,
        AugmentConfig augment,
        DataConfig data,
        Train train,
        Config source) {

    /** Target-network momentum m0 and its schedule (spec 2.8). */
    public record Ema(double momentum, boolean cosine) {}

    /** Run-level settings. */
    public record Train(long seed, int threads, double logEverySeconds, long maxSteps) {}

    /** Validates a resolved config; every problem names its key. */
    public static PretrainConfig from(Config config) {
        ConfigReader r = new ConfigReader(config);
        ModelConfig model = ModelConfig.read(r);
        MaskConfig mask = MaskConfig.read(r, model);
        double neg = r.doubleValue("loss.neg-weight", 0, 1e6);
        String schedule = r.stringValue("ema.schedule");
        if (!schedule.equals("cosine") && !schedule.equals("constant")) {
            throw r.invalid("ema.schedule", "must be one of cosine, constant");
        }
        Ema ema = new Ema(r.doubleValue("ema.momentum", 0, 1), schedule.equals("cosine"));
        OptimConfig optim = OptimConfig.read(r);
        AugmentConfig augment = AugmentConfig.read(r);
        DataConfig data = DataConfig.read(r);
        Train train = new Train(r.longValue("train.seed"), r.intValue("train.threads", 1, 1024),
                r.doubleValue("train.log-every-seconds", 0, 1e6), r.longValue("train.max-steps"));
        if (train.maxSteps() < 0) {
            throw r.invalid("train.max-steps", "must be >= 0");
        }
        return new PretrainConfig(model, mask, neg, ema, optim, augment, data, train, config);
    }
}
