package siameseim.evaluate;

import java.io.IOException;
import java.util.HashSet;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import siameseim.config.EvalConfig;
import siameseim.datasets.augment.Resampler;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.SubsetManifest;
import siameseim.config.FeaturePool;

/**
 * Few-shot evaluation (spec 5.4, MSN's protocol as the reference runs it): CLS features of a
 * small labelled subset (resize bilinear, centre crop), each centred on its own mean and scaled
 * to unit L2 norm, then multinomial logistic regression without intercept and with an L2 penalty
 * lambda = lambda-n / n on Spark MLlib. MLlib minimises (1/n) sum CE + regParam / 2 |W|^2 with
 * elasticNetParam 0, which is cyanure's objective with regParam = lambda; standardisation is off
 * (the features are already normalised).
 */
public final class FewShotEvaluation {
    private FewShotEvaluation() {}

    /** Accuracy and what it was measured on. */
    public record Result(double top1, long train, long test, double lambda, String selection, String weights) {}

    public static Result run(SparkSession spark, EvalConfig cfg) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        jsc.setJobGroup("siameseim-few-shot", "few-shot evaluation", false);
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
        FeatureExtraction.RowFilter filter = (s, row) -> chosen.contains((long) s << 40 | row);
        Dataset<Row> train = frame(spark, FeatureExtraction.run(spark, cfg, subset.split(), FeaturePool.CLS, 0, filter,
                Resampler.Filter.BILINEAR));
        Dataset<Row> test = frame(spark, FeatureExtraction.run(spark, cfg, cfg.testSplit(), FeaturePool.CLS, 0, null,
                Resampler.Filter.BILINEAR));
        long n = train.count();
        double lambda = cfg.fewShot().lambdaN() / n;
        LogisticRegressionModel model = new LogisticRegression()
                .setFamily("multinomial")
                .setFitIntercept(false)
                .setStandardization(false)
                .setElasticNetParam(0)
                .setRegParam(lambda)
                .setMaxIter(cfg.fewShot().maxIter())
                .setTol(cfg.fewShot().tol())
                .fit(train);
        double acc = new MulticlassClassificationEvaluator().setMetricName("accuracy").evaluate(model.transform(test));
        jsc.clearJobGroup();
        return new Result(acc, n, test.count(), lambda, subset.selection(),
                cfg.weights() == null ? "random init (seed " + cfg.seed() + ")" : cfg.weights());
    }

    /** (label, features) with each feature centred on its own mean and L2-normalised. */
    static Dataset<Row> frame(SparkSession spark, JavaRDD<FeatureRow> rows) {
        StructType schema = new StructType().add("label", DataTypes.DoubleType).add("features", SQLDataTypes.VectorType());
        JavaRDD<Row> r = rows.map(f -> {
            float[] x = f.feature();
            double mean = 0;
            for (float v : x) {
                mean += v;
            }
            mean /= x.length;
            double[] c = new double[x.length];
            double norm = 0;
            for (int i = 0; i < x.length; i++) {
                c[i] = x[i] - mean;
                norm += c[i] * c[i];
            }
            norm = Math.max(Math.sqrt(norm), 1e-12);
            for (int i = 0; i < c.length; i++) {
                c[i] /= norm;
            }
            return RowFactory.create((double) f.label(), Vectors.dense(c));
        });
        return spark.createDataFrame(r, schema).cache();
    }
}
