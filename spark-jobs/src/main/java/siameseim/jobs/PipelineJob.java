package siameseim.jobs;

import java.util.List;
import org.apache.spark.sql.SparkSession;
import siameseim.config.ConfigLoader;
import siameseim.config.PipelineConfig;
import siameseim.pipeline.Pipeline;

/** bin/siameseim pipeline: prepare, pretrain, knn, linear-probe, export; idempotent, for schedules. */
public final class PipelineJob implements Job {

    @Override
    public String name() {
        return "pipeline";
    }

    @Override
    public String summary() {
        return "prepare -> pretrain -> knn -> linear-probe -> export, idempotent (for cron / systemd timers)";
    }

    @Override
    public String usage() {
        return "--output DIR [--input RAW_DIR | --dataset PREPARED_DIR] [--master URL]"
                + " (conf: pipeline-demo.conf; keys pipeline.*)";
    }

    @Override
    public int run(JobArgs a) throws Exception {
        a.allowOnly("output", "input", "dataset", "master");
        List<String> sets = a.overridesWith("output", "pipeline.output", "input", "pipeline.input", "dataset",
                "data.path");
        PipelineConfig config = PipelineConfig.from(ConfigLoader.load(a.confFile("pipeline-demo.conf"), sets));
        try (JobArgs.JobSession session = a.session("siameseim pipeline")) {
            SparkSession spark = session.spark();
            Pipeline.run(spark, config, System.out::println);
        }
        return 0;
    }
}
