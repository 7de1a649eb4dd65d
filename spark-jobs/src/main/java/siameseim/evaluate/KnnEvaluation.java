package siameseim.evaluate;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import siameseim.config.EvalConfig;
import siameseim.datasets.augment.Resampler;
import siameseim.datasets.shards.Manifest;
import siameseim.eval.Knn;

/**
 * kNN evaluation ({@link Knn}, DINO's protocol): frozen features of the test split are collected
 * and broadcast, every partition of the training split finds their k nearest training features,
 * and the lists are merged; each test image's class is the temperature-weighted vote.
 */
public final class KnnEvaluation {
    private KnnEvaluation() {}

    /** Accuracy and what it was measured on. */
    public record Result(double top1, double top5, long train, long test, int k, double temperature, String pool,
            String weights) {

        /** The job's result table (console, knn.json). */
        public ResultTable table() {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("encoder", weights);
            row.put("k", k);
            row.put("temperature", temperature);
            row.put("features", pool);
            row.put("train images", train);
            row.put("test images", test);
            row.put("top-1", top1);
            row.put("top-5", top5);
            return new ResultTable("kNN").row(row);
        }
    }

    public static Result run(SparkSession spark, EvalConfig cfg) throws IOException {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        jsc.setJobGroup("siameseim-knn", "kNN evaluation of " + (cfg.weights() == null ? "a random init" : cfg.weights()),
                false);
        Manifest m = Manifest.read(spark.sparkContext().hadoopConfiguration(), new Path(cfg.dataPath()));
        m.requireLabels("kNN evaluation");
        List<FeatureRow> testRows = FeatureExtraction.run(spark, cfg, cfg.testSplit(), cfg.knn().pool(), 0, null,
                Resampler.Filter.BICUBIC).collect();
        int d = testRows.get(0).feature().length;
        float[] test = new float[testRows.size() * d];
        int[] truth = new int[testRows.size()];
        for (int i = 0; i < testRows.size(); i++) {
            System.arraycopy(testRows.get(i).feature(), 0, test, i * d, d);
            truth[i] = testRows.get(i).label();
        }
        Knn.normalise(test, d);
        Broadcast<float[]> queries = jsc.broadcast(test);
        int k = cfg.knn().k();
        long[] trainCount = {0};
        Knn all = FeatureExtraction.run(spark, cfg, cfg.trainSplit(), cfg.knn().pool(), cfg.trainLimit(), null,
                        Resampler.Filter.BICUBIC)
                .mapPartitions(it -> {
                    List<FeatureRow> part = new java.util.ArrayList<>();
                    it.forEachRemaining(part::add);
                    float[] train = new float[part.size() * d];
                    int[] labels = new int[part.size()];
                    for (int i = 0; i < part.size(); i++) {
                        System.arraycopy(part.get(i).feature(), 0, train, i * d, d);
                        labels[i] = part.get(i).label();
                    }
                    return List.of(Knn.neighbours(queries.value(), d, Knn.normalise(train, d), labels, k)).iterator();
                })
                .treeReduce(Knn::merge);
        trainCount[0] = cfg.trainLimit() > 0 ? Math.min(cfg.trainLimit(), m.split(cfg.trainSplit()).images())
                : m.split(cfg.trainSplit()).images();
        queries.destroy();
        Knn.Accuracy acc = all.accuracy(truth, m.classes().size(), cfg.knn().temperature());
        jsc.clearJobGroup();
        return new Result(acc.top1(), acc.top5(), trainCount[0], truth.length, k, cfg.knn().temperature(),
                cfg.knn().pool().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'),
                cfg.weights() == null ? "random init (seed " + cfg.seed() + ")" : cfg.weights());
    }
}
