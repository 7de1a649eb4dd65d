package siameseim.config;

/** AdamW, schedule and clipping of pretraining (spec 4). */
public record OptimConfig(
        int batchSize,
        double peakLr,
        double minLr,
        double weightDecay,
        double beta1,
        double beta2,
        double eps,
        double epochs,
        double warmupEpochs,
        double clipGrad,
        int accumSteps) implements java.io.Serializable {

    /** The lr rule of the reference: base-lr x global batch / 256, unless optim.lr is set. */
    static OptimConfig read(ConfigReader r) {
        int batch = r.intValue("optim.batch-size", 1, 1 << 24);
        double lr;
        if (r.isNull("optim.lr")) {
            lr = r.doubleValue("optim.base-lr", 0, 10) * batch / 256.0;
        } else {
            lr = r.doubleValue("optim.lr", 0, 100);
        }
        double epochs = r.doubleValue("optim.epochs", 1e-9, 1e9);
        double warmup = r.doubleValue("optim.warmup-epochs", 0, 1e9);
        if (warmup > epochs) {
            throw r.invalid("optim.warmup-epochs", "exceeds optim.epochs = " + epochs);
        }
        int accum = r.intValue("optim.accum-steps", 1, 1 << 16);
        if (batch % accum != 0) {
            throw r.invalid("optim.accum-steps", "does not divide optim.batch-size = " + batch);
        }
        return new OptimConfig(batch, lr, r.doubleValue("optim.min-lr", 0, 100),
                r.doubleValue("optim.weight-decay", 0, 10), r.doubleValue("optim.beta1", 0, 0.999999),
                r.doubleValue("optim.beta2", 0, 0.999999999), r.doubleValue("optim.eps", 0, 1),
                epochs, warmup, r.doubleValue("optim.clip-grad", 0, Double.MAX_VALUE), accum);
    }
}
