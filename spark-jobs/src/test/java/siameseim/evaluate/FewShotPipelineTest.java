package siameseim.evaluate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.config.ConfigLoader;
import siameseim.config.EvalConfig;
import siameseim.config.FeaturePool;
import siameseim.datasets.augment.Resampler;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.SubsetManifest;
import siameseim.testing.EvalFixture;
import siameseim.testing.LocalSpark;

/**
 * The few-shot Pipeline (ImageEmbedder, then LogisticRegression) against the path it replaced:
 * features from {@link FeatureExtraction} (CLS, bilinear), centred and L2-normalised here as the
 * old evaluation did, through the same logistic regression. Identical features, identical
 * coefficients, identical accuracy; the fitted PipelineModel saves and loads.
 */
class FewShotPipelineTest {
    static SparkSession spark;
    @TempDir
    static Path tmp;
    static String dataset;

    @BeforeAll
    static void start() throws Exception {
        spark = LocalSpark.start();
        dataset = EvalFixture.coloursDataset(spark, tmp, 20);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void thePipelineGivesTheFeaturesAndAccuracyOfTheFeatureExtractionPathAndSavesAndLoads() throws Exception {
        List<String> sets = new ArrayList<>(List.of(EvalFixture.UNIT));
        // batches of 5 cut through the shards, as they would through a large one
        sets.addAll(List.of("data.path=" + dataset, "eval.few-shot.per-class=4", "eval.batch-size=5",
                "eval.few-shot.lambda-n=0.01"));
        EvalConfig c = EvalConfig.from(ConfigLoader.load(null, sets));
        FewShotEvaluation.Fitted f = FewShotEvaluation.fit(spark, c);
        assertEquals(12, f.train());
        assertEquals(18, f.testImages());

        org.apache.hadoop.conf.Configuration conf = spark.sparkContext().hadoopConfiguration();
        org.apache.hadoop.fs.Path root = new org.apache.hadoop.fs.Path(dataset);
        SubsetManifest subset = SubsetManifest.perClass(conf, root, Manifest.read(conf, root), "train", 4, c.seed());
        Set<Long> chosen = new HashSet<>();
        for (long[] r : subset.rows()) {
            chosen.add(r[0] << 40 | r[1]);
        }
        FeatureExtraction.RowFilter filter = (s, row) -> chosen.contains((long) s << 40 | row);
        Dataset<Row> oldTrain = centred(FeatureExtraction.run(spark, c, "train", FeaturePool.CLS, 0, filter,
                Resampler.Filter.BILINEAR));
        Dataset<Row> oldTest = centred(FeatureExtraction.run(spark, c, "val", FeaturePool.CLS, 0, null,
                Resampler.Filter.BILINEAR));

        Transformer embedder = f.model().stages()[0];
        assertSameVectors(oldTrain, embedder.transform(ShardImages.of(spark, root, "train", filter)));
        assertSameVectors(oldTest, embedder.transform(f.test()));

        LogisticRegression lr = (LogisticRegression) FewShotEvaluation.pipeline(c, f.lambda()).getStages()[1];
        LogisticRegressionModel old = lr.fit(oldTrain);
        LogisticRegressionModel now = (LogisticRegressionModel) f.model().stages()[1];
        assertArrayEquals(old.coefficientMatrix().toArray(), now.coefficientMatrix().toArray(), 0.0);
        double oldAccuracy = new MulticlassClassificationEvaluator().setMetricName("accuracy")
                .evaluate(old.transform(oldTest));
        double accuracy = FewShotEvaluation.accuracy(f.model(), f.test());
        assertEquals(oldAccuracy, accuracy, 0.0);
        FewShotEvaluation.Result r = FewShotEvaluation.run(spark, c);
        assertEquals(accuracy, r.top1(), 0.0);
        assertEquals(18, r.test());
        assertTrue(r.weights().startsWith("random init"), r.weights());

        String saved = tmp.resolve("few-shot-model").toString();
        f.model().write().overwrite().save(saved);
        PipelineModel loaded = PipelineModel.load(saved);
        Map<String, Vector> before = probabilities(f.model().transform(f.test()));
        Map<String, Vector> after = probabilities(loaded.transform(ShardImages.of(spark.newSession(), root, "val",
                null)));
        assertEquals(before.keySet(), after.keySet());
        before.forEach((k, v) -> assertArrayEquals(v.toArray(), after.get(k).toArray(), 0.0, k));
    }

    /** (key, label, features): each feature centred on its own mean and L2-normalised, as the old evaluation did. */
    private static Dataset<Row> centred(JavaRDD<FeatureRow> rows) {
        StructType schema = new StructType().add("key", DataTypes.StringType).add("label", DataTypes.DoubleType)
                .add("features", SQLDataTypes.VectorType());
        return spark.createDataFrame(rows.map(f -> {
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
            return RowFactory.create(f.key(), (double) f.label(), Vectors.dense(c));
        }), schema).cache();
    }

    private static void assertSameVectors(Dataset<Row> expected, Dataset<Row> got) {
        Map<String, Vector> e = new HashMap<>();
        expected.select("key", "features").collectAsList().forEach(r -> e.put(r.getString(0), (Vector) r.get(1)));
        List<Row> g = got.select("key", "features").collectAsList();
        assertEquals(e.size(), g.size());
        for (Row r : g) {
            assertArrayEquals(e.get(r.getString(0)).toArray(), ((Vector) r.get(1)).toArray(), 0.0, r.getString(0));
        }
    }

    private static Map<String, Vector> probabilities(Dataset<Row> predictions) {
        Map<String, Vector> out = new HashMap<>();
        predictions.select("key", "probability").collectAsList().forEach(r -> out.put(r.getString(0), (Vector) r.get(1)));
        return out;
    }
}
