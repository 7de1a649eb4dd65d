package siameseim.jobs;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import siameseim.config.ConfigLoader;
import siameseim.config.PrepareConfig;
import siameseim.datasets.shards.Manifest;
import siameseim.prepare.DatasetPreparation;
import siameseim.spark.SparkSessions;

/** bin/siameseim prepare: an ImageNet-layout tree to Parquet shards and manifest.json. */
public final class PrepareJob implements Job {

    @Override
    public String name() {
        return "prepare";
    }

    @Override
    public String summary() {
        return "ImageNet-layout folder (file/hdfs/s3a) -> Parquet shards + manifest.json, bad files reported";
    }

    @Override
    public String usage() {
        return "--input DIR --output DIR [--resize PIXELS] [--master URL (local[2])]";
    }

    @Override
    public int run(JobArgs a) throws Exception {
        a.allowOnly("input", "output", "resize", "master");
        List<String> sets = new ArrayList<>(a.overrides());
        mapOption(a, "input", "prepare.input", sets);
        mapOption(a, "output", "prepare.output", sets);
        mapOption(a, "resize", "prepare.resize-shorter-side", sets);
        PrepareConfig cfg = PrepareConfig.from(ConfigLoader.load(a.confFile(null), sets));
        SparkSession spark = SparkSessions.create("siameseim prepare", a.option("master", null));
        try {
            DatasetPreparation.Report r = DatasetPreparation.run(spark, cfg);
            print(r);
        } finally {
            spark.stop();
        }
        return 0;
    }

    static void mapOption(JobArgs a, String option, String key, List<String> sets) {
        String v = a.option(option, null);
        if (v != null) {
            sets.add(key + "=\"" + v.replace("\\", "\\\\").replace("\"", "\\\"") + "\"");
        }
    }

    static void print(DatasetPreparation.Report r) {
        Manifest m = r.manifest();
        System.out.printf(Locale.ROOT, "[prepare] wrote %s in %.1f s: %d classes%n", r.output(), r.seconds(),
                m.classes().size());
        for (Map.Entry<String, Manifest.Split> e : m.splits().entrySet()) {
            long bytes = e.getValue().shards().stream().mapToLong(s -> s.bytes()).sum();
            System.out.printf(Locale.ROOT, "[prepare]   %-5s %8d images in %d shards (%.1f MiB)%n", e.getKey(),
                    e.getValue().images(), e.getValue().shards().size(), bytes / 1048576.0);
        }
        System.out.printf(Locale.ROOT, "[prepare] %d of %d input files skipped%s%n", m.badFiles().size(), r.inputFiles(),
                m.badFiles().isEmpty() ? "" : " (listed with their reason under bad_files in manifest.json): "
                        + DatasetPreparation.countByReason(m));
    }
}
