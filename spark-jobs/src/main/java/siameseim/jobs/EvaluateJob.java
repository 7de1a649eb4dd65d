package siameseim.jobs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import siameseim.config.ConfigLoader;
import siameseim.config.EvalConfig;
import siameseim.evaluate.CorruptionErrors;
import siameseim.evaluate.FolderEvaluation;
import siameseim.evaluate.ResultTable;

/**
 * bin/siameseim evaluate: top-1/top-5 of a fine-tuned classifier on a labelled image folder
 * (robustness sets such as ImageNet-A/-R/-Sketch, or any DIR/&lt;class&gt;/&lt;image&gt; tree).
 */
public final class EvaluateJob implements Job {

    @Override
    public String name() {
        return "evaluate";
    }

    @Override
    public String summary() {
        return "top-1/top-5 of a fine-tuned classifier on a labelled image folder (robustness sets)";
    }

    @Override
    public String usage() {
        return "--weights FINETUNE-CHECKPOINT|SAFETENSORS|PTH --images DIR (or an ImageNet-C tree) [--class-map FILE] [--all-classes]"
                + " [--output DIR] [--master URL]";
    }

    @Override
    public int run(JobArgs a) throws Exception {
        a.allowOnly("weights", "images", "class-map", "all-classes", "output", "master");
        String weights = a.option("weights", null);
        String images = a.option("images", null);
        if (weights == null || images == null) {
            throw new JobArgs.UsageError("--weights (a finetune checkpoint) and --images DIR are required");
        }
        List<String> sets = new ArrayList<>(a.overrides());
        EvalConfig cfg = EvalConfig.from(ConfigLoader.load(a.confFile("pretrain-demo.conf"), sets));
        try (JobArgs.JobSession session = a.session("siameseim evaluate")) {
            SparkSession spark = session.spark();
            FolderEvaluation.Result r = FolderEvaluation.run(spark, cfg, weights, images, a.option("class-map", null),
                    !a.flag("all-classes"));
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("classifier", r.weights());
            row.put("images folder", r.folder());
            row.put("images", r.images());
            row.put("unreadable", r.unreadable().size());
            row.put("classes", r.folderClasses() + " of " + r.modelClasses()
                    + (r.restricted() ? " (predictions restricted to these)" : ""));
            row.put("top-1", r.top1());
            row.put("top-5", r.top5());
            ResultTable t = new ResultTable("Evaluation").row(row);
            System.out.print(t.markdown());
            if (r.corruption() != null) { // ImageNet-C: per corruption and severity, CE, mCE
                ResultTable c = new ResultTable("ImageNet-C (top-1 error; CE normalised by AlexNet,"
                        + " Hendrycks & Dietterich 2019)");
                for (CorruptionErrors.Corruption k : r.corruption().corruptions()) {
                    Map<String, Object> line = new LinkedHashMap<>();
                    line.put("corruption", k.name());
                    for (int sev = 1; sev <= 5; sev++) {
                        line.put("severity " + sev, k.errorBySeverity().getOrDefault(sev, Double.NaN));
                    }
                    line.put("mean error", k.meanError());
                    line.put("CE", k.ce());
                    c.row(line);
                }
                Map<String, Object> total = new LinkedHashMap<>();
                for (String col : List.of("corruption", "severity 1", "severity 2", "severity 3", "severity 4",
                        "severity 5", "mean error")) {
                    total.put(col, "");
                }
                Map<String, Object> robust = new LinkedHashMap<>(total);
                total.put("corruption", "mCE over " + r.corruption().counted() + " corruptions");
                total.put("CE", r.corruption().mce());
                c.row(total);
                robust.put("corruption", "1 - mCE");
                robust.put("CE", r.corruption().robustness());
                c.row(robust);
                System.out.print(c.markdown());
                c.write(spark.sparkContext().hadoopConfiguration(), a.option("output", null), "evaluate-imagenet-c");
            }
            for (String bad : r.unreadable().subList(0, Math.min(10, r.unreadable().size()))) {
                System.out.println("[evaluate] unreadable: " + bad);
            }
            t.write(spark.sparkContext().hadoopConfiguration(), a.option("output", null), "evaluate");
        }
        return 0;
    }
}
