package siameseim.prepare;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import siameseim.config.PrepareConfig;
import siameseim.datasets.prepare.DatasetCommit;
import siameseim.datasets.prepare.PrepareOptions;
import siameseim.datasets.prepare.PrepareTask;
import siameseim.datasets.prepare.SourceFile;
import siameseim.datasets.prepare.SourceListing;
import siameseim.datasets.shards.Manifest;
import siameseim.spark.SparkSessions;

/**
 * The prepare job's work: list the input on the driver, put it in stored row order (a seeded
 * uniform permutation per split, docs/dataset-format.md), decode and shard it in Spark tasks
 * (contiguous runs of that order, so the output is the same on every rerun), check the
 * bad-file fraction, then publish shards and manifest from the staging folder.
 */
public final class DatasetPreparation {
    private DatasetPreparation() {}

    /** What the job did. */
    public record Report(Manifest manifest, Path output, long inputFiles, double seconds) {

        /** What the job prints: the dataset, each split's images and shards, the skipped files. */
        public List<String> lines() {
            List<String> out = new ArrayList<>();
            out.add(String.format(Locale.ROOT, "[prepare] wrote %s in %.1f s: %d classes", output, seconds,
                    manifest.classes().size()));
            for (Map.Entry<String, Manifest.Split> e : manifest.splits().entrySet()) {
                long bytes = e.getValue().shards().stream().mapToLong(s -> s.bytes()).sum();
                out.add(String.format(Locale.ROOT, "[prepare]   %-5s %8d images in %d shards (%.1f MiB)", e.getKey(),
                        e.getValue().images(), e.getValue().shards().size(), bytes / 1048576.0));
            }
            out.add(String.format(Locale.ROOT, "[prepare] %d of %d input files skipped%s", manifest.badFiles().size(),
                    inputFiles, manifest.badFiles().isEmpty() ? "" : " (listed with their reason under bad_files in"
                            + " manifest.json): " + countByReason(manifest)));
            return out;
        }
    }

    /** What the tasks wrote, before the commit: the classes, the splits, each task's result, the inputs seen. */
    record Prepared(List<String> classes, List<String> splits, List<PrepareTask.Result> results, long inputs) {}

    /** Prepares the input and publishes the dataset; what the job did. */
    public static Report run(SparkSession spark, PrepareConfig cfg) throws IOException {
        long start = System.nanoTime();
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Path input = new Path(cfg.input());
        Path output = new Path(cfg.output());
        Path staging = DatasetCommit.staging(output.getFileSystem(conf).makeQualified(output));
        Manifest.RowOrder rowOrder = new Manifest.RowOrder(cfg.shuffle() ? Manifest.RowOrder.SHUFFLED
                : Manifest.RowOrder.SORTED, cfg.shuffle() ? cfg.seed() : 0);
        PrepareOptions options = new PrepareOptions(cfg.shardBytes(), cfg.resizeShorterSide(), cfg.jpegQuality(),
                cfg.maxPixels(), cfg.decoder(), cfg.readAhead());
        staging.getFileSystem(conf).delete(staging, true);
        JavaSparkContext.fromSparkContext(spark.sparkContext()).setJobGroup("siameseim-prepare",
                "prepare " + input + " -> " + output, false);
        Prepared p = switch (cfg.layout()) {
            case TABLE -> TableInput.prepare(spark, cfg, rowOrder, options, staging);
            case WEBDATASET -> WebDatasetInput.prepare(spark, cfg, rowOrder, options, staging);
            case ILSVRC -> IlsvrcInput.prepare(spark, cfg, rowOrder, options, staging);
            default -> files(spark, cfg, rowOrder, options, staging);
        };

        JsonObject config = JsonParser.parseString(cfg.json()).getAsJsonObject();
        Manifest manifest = DatasetCommit.manifest(input.toString(), p.classes(), p.splits(), p.results(), rowOrder,
                config);
        long bad = manifest.badFiles().size();
        if (bad > cfg.maxBadFraction() * p.inputs()) {
            staging.getFileSystem(conf).delete(staging, true);
            throw new IOException(String.format(Locale.ROOT,
                    "%d of %d input files (%.2f%%) are unusable, above prepare.max-bad-fraction = %s; nothing was"
                            + " written. By reason: %s. First: %s", bad, p.inputs(), 100.0 * bad / p.inputs(),
                    cfg.maxBadFraction(), countByReason(manifest), firstBad(manifest, 5)));
        }
        DatasetCommit.publish(conf, staging, output, manifest);
        return new Report(manifest, output, p.inputs(), (System.nanoTime() - start) / 1e9);
    }

    /** The file layouts: list on the driver, then contiguous runs of the stored row order per task. */
    private static Prepared files(SparkSession spark, PrepareConfig cfg, Manifest.RowOrder rowOrder,
            PrepareOptions options, Path staging) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Path input = new Path(cfg.input());
        long t0 = System.nanoTime();
        SourceListing listing = switch (cfg.layout()) {
            case UNLABELLED -> SourceListing.unlabelled(conf, input, cfg.heldOut(), cfg.seed());
            case INDEX -> IndexFile.listing(spark, input, cfg.splits());
            default -> SourceListing.list(conf, input, cfg.splits(),
                    cfg.valGroundTruth() == null ? null : new Path(cfg.valGroundTruth()));
        };
        List<SourceFile> files = listing.files(rowOrder);
        System.out.printf(Locale.ROOT, "[prepare] listed %d files on the driver in %.1f s%n", files.size(),
                (System.nanoTime() - t0) / 1e9);
        List<String> present = cfg.splits().stream().filter(sp -> !listing.missingSplits().contains(sp)).toList();
        for (String split : cfg.layout() == PrepareConfig.Layout.UNLABELLED ? List.<String>of()
                : listing.missingSplits()) {
            System.out.printf(Locale.ROOT, "[prepare] %s has no %s: the dataset holds no %s split (pretraining"
                    + " needs only train; evaluations need a labelled split)%n", input,
                    cfg.layout() == PrepareConfig.Layout.INDEX ? split + " rows" : split + "/ folder", split);
        }
        if (files.isEmpty()) {
            throw new IOException("input " + input + " has no files in " + cfg.splits());
        }
        if (cfg.heldOut() > 0) {
            long val = files.stream().filter(f -> f.split().equals("val")).count();
            System.out.printf(Locale.ROOT, "[prepare] held out %d of %d images as the val split (prepare.held-out"
                    + " = %s, seed %d)%n", val, files.size(), cfg.heldOut(), cfg.seed());
        }
        int cores = spark.sparkContext().defaultParallelism();
        List<List<SourceFile>> groups = PrepareTask.plan(files, cfg.shardBytes(),
                cfg.tasks() > 0 ? cfg.tasks() : 2 * cores);
        System.out.printf(Locale.ROOT, "[prepare] %s: %d files, %d classes -> %d tasks, rows %s%n", input,
                files.size(), listing.classes().size(), groups.size(), rowOrder);
        Map<String, String> hadoop = SparkSessions.hadoopConf(spark);
        List<String> classes = listing.classes();
        String stagingUri = staging.toString();
        List<PrepareTask.Result> results = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(groups, groups.size())
                .mapPartitionsWithIndex((Integer idx, Iterator<List<SourceFile>> it) -> {
                    List<PrepareTask.Result> out = new ArrayList<>();
                    Configuration c = SparkSessions.rebuild(hadoop);
                    while (it.hasNext()) {
                        out.add(PrepareTask.run(idx, it.next().iterator(), classes, options, c, new Path(stagingUri)));
                    }
                    return out.iterator();
                }, true)
                .collect();
        return new Prepared(classes, present, results, files.size());
    }

    public static String countByReason(Manifest m) {
        Map<String, Long> by = m.badFiles().stream()
                .collect(Collectors.groupingBy(Manifest.BadFile::reason, TreeMap::new, Collectors.counting()));
        return by.toString();
    }

    static String firstBad(Manifest m, int n) {
        return m.badFiles().stream().limit(n).map(b -> b.path() + " (" + b.reason() + ": " + b.detail() + ")")
                .collect(Collectors.joining("; "));
    }
}
