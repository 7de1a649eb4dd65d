package siameseim.config;

import com.typesafe.config.Config;

/** The fine-tuning recipe (section {@code finetune}, spec 5.2). */
public record FinetuneConfig(
        double epochs,
        int batchSize,
        int accumSteps,
        double baseLr,
        double minLr,
        double warmupEpochs,
        double weightDecay,
        double beta1,
        double beta2,
        double layerDecay,
        double dropPath,
        double clipGrad,
        double smoothing,
        double mixup,
        double cutmix,
        double mixupProb,
        double mixupSwitchProb,
        double[] cropScale,
        int randAugmentOps,
        double randAugmentMagnitude,
        double randAugmentMagnitudeStd,
        double randomErase,
        double evalEveryEpochs,
        int classes) implements java.io.Serializable {

    /** Peak learning rate: base-lr x batch-size / 256. */
    public double peakLr() {
        return baseLr * batchSize / 256.0;
    }

    /** Fails unless every replica gets whole micro-batches (checked where fine-tuning starts). */
    public void checkReplicas(int replicas) {
        if (batchSize % (accumSteps * replicas) != 0) {
            throw new ConfigError("finetune.batch-size", "value " + batchSize + " is not divisible by"
                    + " finetune.accum-steps = " + accumSteps + " x distributed.replicas = " + replicas);
        }
    }

    public static FinetuneConfig from(Config config) {
        ConfigReader r = new ConfigReader(config);
        double epochs = r.doubleValue("finetune.epochs", 1e-3, 1e6);
        double warmup = r.doubleValue("finetune.warmup-epochs", 0, 1e6);
        if (warmup > epochs) {
            throw r.invalid("finetune.warmup-epochs", "exceeds finetune.epochs = " + epochs);
        }
        int batch = r.intValue("finetune.batch-size", 1, 1 << 24);
        int accum = r.intValue("finetune.accum-steps", 1, 1 << 16);
        if (batch % accum != 0) {
            throw r.invalid("finetune.batch-size", "value " + batch + " is not divisible by finetune.accum-steps = "
                    + accum);
        }
        double[] betas = r.doubleList("finetune.betas", 2, 0, 0.999999);
        double[] scale = r.doubleList("finetune.crop-scale", 2, 1e-6, 1.0);
        if (scale[0] > scale[1]) {
            throw r.invalid("finetune.crop-scale", "must be [min, max] with min <= max");
        }
        return new FinetuneConfig(epochs, batch, accum, r.doubleValue("finetune.base-lr", 0, 10),
                r.doubleValue("finetune.min-lr", 0, 10), warmup, r.doubleValue("finetune.weight-decay", 0, 10),
                betas[0], betas[1], r.doubleValue("finetune.layer-decay", 1e-6, 1),
                r.doubleValue("finetune.drop-path", 0, 0.99), r.doubleValue("finetune.clip-grad", 0, 1e9),
                r.doubleValue("finetune.smoothing", 0, 0.99), r.doubleValue("finetune.mixup", 0, 1e3),
                r.doubleValue("finetune.cutmix", 0, 1e3), r.doubleValue("finetune.mixup-prob", 0, 1),
                r.doubleValue("finetune.mixup-switch-prob", 0, 1), scale,
                r.intValue("finetune.rand-augment.ops", 0, 16),
                r.doubleValue("finetune.rand-augment.magnitude", 0, 30),
                r.doubleValue("finetune.rand-augment.magnitude-std", 0, 30),
                r.doubleValue("finetune.random-erase", 0, 1), r.doubleValue("finetune.eval-every-epochs", 0, 1e6),
                r.intValue("finetune.classes", 0, 1 << 20));
    }
}
