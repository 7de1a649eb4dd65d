package siameseim.jobs;

import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import siameseim.config.EvalConfig;
import siameseim.config.FeaturePool;
import siameseim.evaluate.Embeddings;

/** bin/siameseim embed: a prepared dataset's embeddings under a frozen encoder, as Parquet. */
public final class EmbedJob implements Job {

    @Override
    public String name() {
        return "embed";
    }

    @Override
    public String summary() {
        return "embeddings of a prepared dataset's images under a frozen encoder, written as Parquet";
    }

    @Override
    public String usage() {
        return "--weights CHECKPOINT|SAFETENSORS --dataset DIR --output DIR [--split train,val (default: all)]"
                + " [--pool mean-patch|cls] [--normalize] [--master URL]";
    }

    @Override
    public int run(JobArgs a) throws Exception {
        a.allowOnly("dataset", "weights", "output", "split", "pool", "normalize", "master");
        EvalConfig cfg = EvalJobs.config(a);
        String output = a.option("output", null);
        if (cfg.weights() == null || output == null) {
            throw new JobArgs.UsageError("--weights and --output are required");
        }
        String pool = a.option("pool", "mean-patch");
        FeaturePool p = switch (pool) {
            case "mean-patch" -> FeaturePool.MEAN_PATCH;
            case "cls" -> FeaturePool.CLS;
            default -> throw new JobArgs.UsageError("--pool must be mean-patch or cls, got '" + pool + "'");
        };
        String split = a.option("split", null);
        List<String> splits = split == null ? List.of() : Arrays.stream(split.split(",")).map(String::trim).toList();
        try (JobArgs.JobSession session = a.session("siameseim embed")) {
            SparkSession spark = session.spark();
            Embeddings.run(spark, cfg, splits, p, a.flag("normalize"), output, System.out::println);
        }
        return 0;
    }
}
