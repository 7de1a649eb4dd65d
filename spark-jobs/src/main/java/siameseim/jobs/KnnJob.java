package siameseim.jobs;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import siameseim.config.EvalConfig;
import siameseim.evaluate.KnnEvaluation;
import siameseim.evaluate.ResultTable;
import siameseim.spark.SparkSessions;

/** bin/siameseim knn: cosine kNN of frozen features (k 20, temperature 0.07 by default). */
public final class KnnJob implements Job {

    @Override
    public String name() {
        return "knn";
    }

    @Override
    public String summary() {
        return "kNN accuracy of a frozen encoder (distributed feature extraction and neighbour search)";
    }

    @Override
    public String usage() {
        return EvalJobs.USAGE;
    }

    @Override
    public int run(JobArgs a) throws Exception {
        a.allowOnly("dataset", "weights", "output", "master");
        EvalConfig cfg = EvalJobs.config(a);
        SparkSession spark = SparkSessions.create("siameseim knn", a.option("master", null));
        try {
            ResultTable t = table(KnnEvaluation.run(spark, cfg));
            System.out.print(t.markdown());
            t.write(spark.sparkContext().hadoopConfiguration(), a.option("output", null), "knn");
        } finally {
            spark.stop();
        }
        return 0;
    }

    /** The job's result table (also written by the pipeline). */
    public static ResultTable table(KnnEvaluation.Result r) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("encoder", r.weights());
        row.put("k", r.k());
        row.put("temperature", r.temperature());
        row.put("features", r.pool());
        row.put("train images", r.train());
        row.put("test images", r.test());
        row.put("top-1", r.top1());
        row.put("top-5", r.top5());
        return new ResultTable("kNN").row(row);
    }
}
