package siameseim.evaluate;

import java.io.IOException;
import java.util.HashSet;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import siameseim.checkpoint.CheckpointFormat;
import siameseim.config.EvalConfig;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.ShardInfo;
import siameseim.datasets.shards.SubsetManifest;
import siameseim.ml.ImageEmbedder;

/**
 * Few-shot evaluation (spec 5.4, MSN's protocol as the reference runs it) as a Spark ML
 * {@link Pipeline}: an {@link ImageEmbedder} (CLS features of the small labelled subset, resize
 * bilinear, centre crop, each centred on its own mean and scaled to unit L2 norm), then MLlib's
 * multinomial {@link LogisticRegression} without intercept and with an L2 penalty
 * lambda = lambda-n / n. MLlib minimises (1/n) sum CE + regParam / 2 |W|^2 with elasticNetParam 0,
 * which is cyanure's objective with regParam = lambda; standardisation is off (the features are
 * already normalised).
 */
public final class FewShotEvaluation {
    private FewShotEvaluation() {}

    /** Accuracy and what it was measured on. */
    public record Result(double top1, long train, long test, double lambda, String selection, String weights) {}

    /** The fitted pipeline, the test split's images it is measured on, and what it was fitted on. */
    public record Fitted(PipelineModel model, Dataset<Row> test, long train, long testImages, double lambda,
            String selection) {}

    public static Result run(SparkSession spark, EvalConfig cfg) throws IOException {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        jsc.setJobGroup("siameseim-few-shot", "few-shot evaluation", false);
        Fitted f = fit(spark, cfg);
        double acc = accuracy(f.model(), f.test());
        jsc.clearJobGroup();
        return new Result(acc, f.train(), f.testImages(), f.lambda(), f.selection(),
                cfg.weights() == null ? "random init (seed " + cfg.seed() + ")" : cfg.weights());
    }

    /** The pipeline fitted on the subset (eval.few-shot.subset or per-class) of the prepared dataset. */
    public static Fitted fit(SparkSession spark, EvalConfig cfg) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Path root = new Path(cfg.dataPath());
        Manifest m = Manifest.read(conf, root);
        m.requireLabels("few-shot evaluation");
        SubsetManifest subset;
        if (cfg.fewShot().subset() != null) {
            subset = SubsetManifest.read(conf, new Path(cfg.fewShot().subset()));
        } else if (cfg.fewShot().perClass() > 0) {
            subset = SubsetManifest.perClass(conf, root, m, cfg.trainSplit(), cfg.fewShot().perClass(), cfg.seed());
        } else {
            throw new IllegalArgumentException("few-shot needs eval.few-shot.per-class > 0 or eval.few-shot.subset");
        }
        Set<Long> chosen = new HashSet<>();
        for (long[] r : subset.rows()) {
            chosen.add(r[0] << 40 | r[1]);
        }
        Dataset<Row> train = ShardImages.of(spark, root, subset.split(), (s, row) -> chosen.contains((long) s << 40
                | row));
        Dataset<Row> test = ShardImages.of(spark, root, cfg.testSplit(), null);
        long n = subset.size();
        double lambda = cfg.fewShot().lambdaN() / n;
        PipelineModel model = pipeline(cfg, lambda).fit(train);
        long testImages = m.split(cfg.testSplit()).shards().stream().mapToLong(ShardInfo::rows).sum();
        return new Fitted(model, test, n, testImages, lambda, subset.selection());
    }

    /** The unfitted pipeline: embedder (input column {@code image}) and logistic regression. */
    public static Pipeline pipeline(EvalConfig cfg, double lambda) {
        ImageEmbedder embedder = new ImageEmbedder().setInputCol("image").setOutputCol("features")
                .setArchitecture(CheckpointFormat.architectureJson(cfg.model())).setSeed(cfg.seed())
                .setPooling("cls").setResize("bilinear").setNormalize("centre+l2").setDecoder(cfg.decoder())
                .setMeanStd(cfg.augment().mean(), cfg.augment().std()).setBatchSize(cfg.batchSize())
                .setThreads(cfg.threads());
        if (cfg.weights() != null) {
            embedder.setWeights(cfg.weights());
        }
        LogisticRegression lr = new LogisticRegression()
                .setFamily("multinomial")
                .setFitIntercept(false)
                .setStandardization(false)
                .setElasticNetParam(0)
                .setRegParam(lambda)
                .setMaxIter(cfg.fewShot().maxIter())
                .setTol(cfg.fewShot().tol());
        return new Pipeline().setStages(new PipelineStage[] {embedder, lr});
    }

    /** Top-1 accuracy of {@code model} on {@code images} (key, label, image). */
    public static double accuracy(PipelineModel model, Dataset<Row> images) {
        return new MulticlassClassificationEvaluator().setMetricName("accuracy").evaluate(model.transform(images));
    }
}
