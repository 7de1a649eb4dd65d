package siameseim.jobs;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import siameseim.config.EvalConfig;
import siameseim.evaluate.FewShotEvaluation;
import siameseim.evaluate.ResultTable;

/** bin/siameseim few-shot: logistic regression on CLS features of a few labels per class. */
public final class FewShotJob implements Job {

    @Override
    public String name() {
        return "few-shot";
    }

    @Override
    public String summary() {
        return "few-shot (1% or N per class) multinomial logistic regression on frozen CLS features (MLlib)";
    }

    @Override
    public String usage() {
        return EvalJobs.USAGE + " [--per-class N | --subset FILE]";
    }

    @Override
    public int run(JobArgs a) throws Exception {
        a.allowOnly("dataset", "weights", "output", "master", "per-class", "subset");
        JobArgs args = a;
        EvalConfig cfg = EvalJobs.config(args, "per-class", "eval.few-shot.per-class", "subset", "eval.few-shot.subset");
        try (JobArgs.JobSession session = a.session("siameseim few-shot")) {
            SparkSession spark = session.spark();
            FewShotEvaluation.Result r = FewShotEvaluation.run(spark, cfg);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("encoder", r.weights());
            row.put("labelled images", r.train() + " (" + r.selection() + ")");
            row.put("lambda", r.lambda());
            row.put("test images", r.test());
            row.put("top-1", r.top1());
            ResultTable t = new ResultTable("Few-shot logistic regression").row(row);
            System.out.print(t.markdown());
            t.write(spark.sparkContext().hadoopConfiguration(), a.option("output", null), "few-shot");
        }
        return 0;
    }
}
