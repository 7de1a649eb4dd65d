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
        return "--weights CHECKPOINT|SAFETENSORS (--dataset DIR [--split train,val] | --images DIR | --table T"
                + " [--format parquet]) --output DIR [--pool mean-patch|cls] [--normalize] [--master URL]";
    }

    @Override
    public int run(JobArgs a) throws Exception {
        a.allowOnly("dataset", "images", "table", "format", "weights", "output", "split", "pool", "normalize",
                "master");
        String images = a.option("images", null);
        String table = a.option("table", null);
        if ((images != null ? 1 : 0) + (table != null ? 1 : 0) + (a.option("dataset", null) != null ? 1 : 0) != 1) {
            throw new JobArgs.UsageError("give one of --dataset, --images or --table");
        }
        EvalConfig cfg = images != null || table != null ? EvalConfig.from(siameseim.config.ConfigLoader.load(
                a.confFile("pretrain-demo.conf"), a.overridesWith("weights", "eval.weights"))) : EvalJobs.config(a);
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
            if (images == null && table == null) {
                Embeddings.run(spark, cfg, splits, p, a.flag("normalize"), output, System.out::println);
            } else {
                org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> df = images != null
                        ? spark.read().format("binaryFile").option("recursiveFileLookup", "true").load(images)
                                .selectExpr("path AS key", "content AS image")
                        : spark.read().format(a.option("format", "parquet")).load(table);
                if (table != null && !java.util.Arrays.asList(df.columns()).contains("key")) {
                    df = df.withColumn("key", org.apache.spark.sql.functions.monotonically_increasing_id()
                            .cast("string"));
                }
                Embeddings.run(spark, df, cfg, p, a.flag("normalize"), output, System.out::println);
            }
        }
        return 0;
    }
}
