package siameseim.jobs;

import org.apache.spark.sql.SparkSession;
import siameseim.config.EvalConfig;
import siameseim.evaluate.KnnEvaluation;
import siameseim.evaluate.ResultTable;

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
        try (JobArgs.JobSession session = a.session("siameseim knn")) {
            SparkSession spark = session.spark();
            ResultTable t = KnnEvaluation.run(spark, cfg).table();
            System.out.print(t.markdown());
            t.write(spark.sparkContext().hadoopConfiguration(), a.option("output", null), "knn");
        }
        return 0;
    }

}
