package siameseim.jobs;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import siameseim.config.PretrainConfig;
import siameseim.distributed.DistributedTraining;
import siameseim.distributed.TrainingKind;
import siameseim.evaluate.ResultTable;

/**
 * bin/siameseim finetune: end-to-end fine-tuning of the encoder with a new head (spec 5.2),
 * distributed like pretraining, checkpointed and resumable, top-1/top-5 on the test split each
 * epoch.
 */
public final class FinetuneJob implements Job {

    @Override
    public String name() {
        return "finetune";
    }

    @Override
    public String summary() {
        return "fine-tune the encoder with a classification head (layer decay, mixup, RandAugment), top-1/top-5 per"
                + " epoch";
    }

    @Override
    public String usage() {
        return "--dataset DIR --output DIR [--weights CHECKPOINT|SAFETENSORS (none: random init)] [--replicas N]"
                + " [--subset FILE] [--resume CHECKPOINT] [--master URL]";
    }

    @Override
    public int run(JobArgs a) throws Exception {
        a.allowOnly("dataset", "output", "weights", "replicas", "subset", "resume", "master");
        PretrainConfig cfg = TrainingJobs.config(a, "weights", "eval.weights");
        try (JobArgs.JobSession session = a.session("siameseim finetune")) {
            SparkSession spark = session.spark();
            DistributedTraining.Result r = DistributedTraining.run(spark, cfg, a.option("resume", null),
                    System.out::println, TrainingKind.FINETUNE);
            String weights = cfg.eval().weights() == null ? "random init (seed " + cfg.train().seed() + ")"
                    : cfg.eval().weights();
            ResultTable t = new ResultTable("Fine-tuning: " + weights);
            for (siameseim.events.Event.Evaluation e : r.evaluations()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("epoch", Math.round(e.epoch() * 100) / 100.0);
                row.put("step", e.step());
                row.put("top-1", e.top1());
                row.put("top-5", e.top5());
                row.put("test images", e.images());
                t.row(row);
            }
            System.out.print(t.markdown());
            t.write(spark.sparkContext().hadoopConfiguration(), cfg.train().output(), "finetune");
            System.out.println(TrainingJobs.doneLine(TrainingKind.FINETUNE, r));
        }
        return 0;
    }
}
