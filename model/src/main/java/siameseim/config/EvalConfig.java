package siameseim.config;

import com.typesafe.config.Config;

/**
 * Settings of the evaluation jobs (section {@code eval}), plus the architecture under test and the
 * intra-op threads of a CPU task ({@code train.threads}, as in training); {@code precision} is the
 * feature extraction's ({@code eval.precision}: fp32 unless asked).
 */
public record EvalConfig(ModelConfig model, AugmentConfig augment, String weights, String trainSplit, String testSplit,
        int trainLimit, int batchSize, Knn knn, Linear linear, FewShot fewShot, long seed, String dataPath,
        String decoder, int threads, PretrainConfig.Precision precision) implements java.io.Serializable {

    /** kNN protocol (DINO): cosine similarity, temperature-weighted votes. */
    public record Knn(int k, double temperature, FeaturePool pool, long everySteps, int monitorBank,
            int monitorTest) implements java.io.Serializable {}

    /** Linear probe (spec 5.3). */
    public record Linear(double epochs, int batchSize, double baseLr, double warmupEpochs, double weightDecay,
            double momentum, double trust) implements java.io.Serializable {}

    /** Few-shot logistic regression (spec 5.4). */
    public record FewShot(int perClass, String subset, double lambdaN, int maxIter, double tol)
            implements java.io.Serializable {}

    /** The same settings with {@code eval.weights} set (the pipeline's evaluations of its own run). */
    public EvalConfig withWeights(String checkpoint) {
        return new EvalConfig(model, augment, checkpoint, trainSplit, testSplit, trainLimit, batchSize, knn, linear,
                fewShot, seed, dataPath, decoder, threads, precision);
    }

    public static EvalConfig from(Config config) {
        ConfigReader r = new ConfigReader(config);
        ModelConfig model = ModelConfig.read(r);
        AugmentConfig augment = AugmentConfig.read(r);
        String pool = r.stringValue("eval.knn.pool");
        if (!pool.equals("mean-patch") && !pool.equals("cls")) {
            throw r.invalid("eval.knn.pool", "must be mean-patch or cls");
        }
        Knn knn = new Knn(r.intValue("eval.knn.k", 1, 100_000), r.doubleValue("eval.knn.temperature", 1e-6, 1e6),
                pool.equals("cls") ? FeaturePool.CLS : FeaturePool.MEAN_PATCH, r.longValue("eval.knn.every-steps"),
                r.intValue("eval.knn.monitor-bank", 1, Integer.MAX_VALUE),
                r.intValue("eval.knn.monitor-test", 1, Integer.MAX_VALUE));
        if (knn.everySteps() < 0) {
            throw r.invalid("eval.knn.every-steps", "must be >= 0");
        }
        Linear linear = new Linear(r.doubleValue("eval.linear.epochs", 1e-3, 1e6),
                r.intValue("eval.linear.batch-size", 2, 1 << 24), r.doubleValue("eval.linear.base-lr", 0, 1e3),
                r.doubleValue("eval.linear.warmup-epochs", 0, 1e6), r.doubleValue("eval.linear.weight-decay", 0, 10),
                r.doubleValue("eval.linear.momentum", 0, 0.9999), r.doubleValue("eval.linear.trust", 0, 10));
        if (linear.warmupEpochs() > linear.epochs()) {
            throw r.invalid("eval.linear.warmup-epochs", "exceeds eval.linear.epochs = " + linear.epochs());
        }
        FewShot fewShot = new FewShot(r.intValue("eval.few-shot.per-class", 0, 1 << 20),
                r.isNull("eval.few-shot.subset") ? null : r.stringValue("eval.few-shot.subset"),
                r.doubleValue("eval.few-shot.lambda-n", 0, 1e6), r.intValue("eval.few-shot.max-iter", 1, 1 << 20),
                r.doubleValue("eval.few-shot.tol", 0, 1));
        String decoder = r.stringValue("data.decoder");
        return new EvalConfig(model, augment, r.isNull("eval.weights") ? null : r.stringValue("eval.weights"),
                r.stringValue("eval.train-split"), r.stringValue("eval.test-split"),
                r.intValue("eval.train-limit", 0, Integer.MAX_VALUE), r.intValue("eval.batch-size", 1, 1 << 16), knn,
                linear, fewShot, r.longValue("train.seed"), r.isNull("data.path") ? null : r.stringValue("data.path"),
                decoder, r.intValue("train.threads", 1, 1024), r.enumValue("eval.precision", PretrainConfig.Precision.class));
    }
}
