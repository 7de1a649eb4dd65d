package siameseim.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Everything a training run reads (pretraining, and fine-tuning's {@code finetune} and
 * {@code eval} sections), validated once at load time. The driver ships this record to the
 * replicas; nothing past the loader reads HOCON. {@code json} is the resolved config as given,
 * written beside the checkpoints and into them (the run is reproducible from it).
 */
public record PretrainConfig(
        ModelConfig model,
        MaskConfig mask,
        double negWeight,
        Ema ema,
        OptimConfig optim,
        AugmentConfig augment,
        DataConfig data,
        Distributed distributed,
        Checkpoint checkpoint,
        Train train,
        EvalConfig eval,
        FinetuneConfig finetune,
        String json) implements java.io.Serializable {

    /** Target-network momentum m0 and its schedule (spec 2.8). */
    public record Ema(double momentum, boolean cosine) implements java.io.Serializable {}

    /** Run-level settings; {@code output} is null for runs that write nothing. */
    public record Train(String output, long seed, int threads, PinThreads pinThreads, double logEverySeconds,
            long maxSteps, boolean tf32, Precision precision) implements java.io.Serializable {}

    /**
     * train.precision: {@code fp32}; {@code fp16-mixed}, fp16 autocast with dynamic loss scaling
     * as the official code trains ({@code torch.cuda.amp}); {@code auto}, fp16-mixed on a replica
     * Spark gave a GPU once a check on that device passed, else fp32 (CPUs have no fp16 units).
     */
    public enum Precision { FP32, FP16_MIXED, AUTO }

    /**
     * train.pin-threads: {@code auto} holds each CPU replica's training threads on CPUs of their
     * own when the replicas of a host fit its CPUs (docs/distributed.md, Thread placement);
     * {@code confine} does that and also keeps every other thread of a replica's executor process
     * on the same CPUs, as a container granted {@code train.threads} CPUs would; {@code off}
     * leaves placement to the kernel.
     */
    public enum PinThreads { AUTO, CONFINE, OFF }

    /** The replicas of the pretrain job. */
    public record Distributed(int replicas, long timeoutMillis, String bindHost) implements java.io.Serializable {}

    /** Checkpoint cadence and retention. */
    public record Checkpoint(long everySteps, int keep) implements java.io.Serializable {}

    /** Replicas: each gets global batch / replicas samples per micro-batch. */
    public int localBatch() {
        return optim.batchSize() / optim.accumSteps() / distributed.replicas();
    }

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
        Train train = new Train(r.isNull("train.output") ? null : r.stringValue("train.output"),
                r.longValue("train.seed"), r.intValue("train.threads", 1, 1024),
                r.enumValue("train.pin-threads", PinThreads.class),
                r.doubleValue("train.log-every-seconds", 0, 1e6), r.longValue("train.max-steps"),
                r.booleanValue("train.tf32"), r.enumValue("train.precision", Precision.class));
        int replicas = r.intValue("distributed.replicas", 1, 1 << 16);
        if (optim.batchSize() % (replicas * optim.accumSteps()) != 0) {
            throw r.invalid("distributed.replicas", "times optim.accum-steps = " + optim.accumSteps()
                    + " does not divide optim.batch-size = " + optim.batchSize());
        }
        Distributed distributed = new Distributed(replicas,
                (long) (1000 * r.doubleValue("distributed.timeout-seconds", 0.1, 1e6)),
                r.isNull("distributed.bind-host") ? null : r.stringValue("distributed.bind-host"));
        Checkpoint checkpoint = new Checkpoint(r.intValue("checkpoint.every-steps", 1, Integer.MAX_VALUE),
                r.intValue("checkpoint.keep", 1, 1000));
        if (train.maxSteps() < 0) {
            throw r.invalid("train.max-steps", "must be >= 0");
        }
        return new PretrainConfig(model, mask, neg, ema, optim, augment, data, distributed, checkpoint, train,
                EvalConfig.from(config), FinetuneConfig.from(config), ConfigLoader.toJson(config));
    }

    /** The keys that name files or folders, which {@link #withPaths} rewrites. */
    public static final List<String> PATH_KEYS = List.of("data.path", "data.subset", "train.output", "eval.weights");

    /**
     * The same config with every set path of {@link #PATH_KEYS} replaced by {@code qualify}'s
     * result (the driver makes them absolute URIs before shipping the config to executors).
     */
    public PretrainConfig withPaths(UnaryOperator<String> qualify) {
        Config c = ConfigLoader.fromJson(json);
        for (String key : PATH_KEYS) {
            if (!c.getIsNull(key)) {
                c = c.withValue(key, ConfigValueFactory.fromAnyRef(qualify.apply(c.getString(key)), key));
            }
        }
        return from(c);
    }
}
