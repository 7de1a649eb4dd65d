package siameseim.jobs;

import java.util.List;
import org.apache.spark.sql.SparkSession;
import siameseim.config.ConfigLoader;
import siameseim.config.PrepareConfig;
import siameseim.prepare.DatasetPreparation;

/**
 * bin/siameseim prepare: an image tree, index, table, WebDataset shards or ImageNet's tars to
 * Parquet shards and manifest.json.
 */
public final class PrepareJob implements Job {

    @Override
    public String name() {
        return "prepare";
    }

    @Override
    public String summary() {
        return "ImageNet-layout folder, index, table, WebDataset shards or ImageNet's tars (file/hdfs/s3a) -> Parquet"
                + " shards + manifest.json, bad files reported";
    }

    @Override
    public String usage() {
        return "--input DIR|FILE|TABLE|PATTERN --output DIR"
                + " [--layout imagenet|unlabelled|index|table|webdataset|ilsvrc] [--format parquet]"
                + " [--resize PIXELS] [--master URL (local[2])]";
    }

    @Override
    public int run(JobArgs a) throws Exception {
        a.allowOnly("input", "output", "layout", "format", "resize", "master");
        List<String> sets = a.overridesWith("input", "prepare.input", "output", "prepare.output", "layout",
                "prepare.layout", "format", "prepare.table-format", "resize", "prepare.resize-shorter-side");
        PrepareConfig cfg = PrepareConfig.from(ConfigLoader.load(a.confFile(null), sets));
        try (JobArgs.JobSession session = a.session("siameseim prepare")) {
            SparkSession spark = session.spark();
            DatasetPreparation.Report r = DatasetPreparation.run(spark, cfg);
            r.lines().forEach(System.out::println);
        }
        return 0;
    }
}
