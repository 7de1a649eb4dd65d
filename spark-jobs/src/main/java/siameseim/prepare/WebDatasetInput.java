package siameseim.prepare;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import siameseim.config.PrepareConfig;
import siameseim.datasets.prepare.InputImage;
import siameseim.datasets.prepare.PrepareOptions;
import siameseim.datasets.prepare.PrepareTask;
import siameseim.datasets.prepare.tar.ShardPattern;
import siameseim.datasets.prepare.tar.TarMembers;
import siameseim.datasets.prepare.tar.TarUnits;
import siameseim.datasets.prepare.tar.WebDatasetSamples;
import siameseim.datasets.shards.Manifest;
import siameseim.spark.SparkSessions;

/**
 * WebDataset shards (prepare.layout = webdataset): a folder of {@code .tar} shards (with
 * {@code train/} and {@code val/} folders, or flat: all train), or a brace pattern such as
 * {@code shard-{000000..000999}.tar}; prepare.webdataset.val-shards adds val shards. Each task
 * reads a run of whole shards, one sequential read each ({@link WebDatasetSamples} groups their
 * members into samples), so an object store serves one request per shard, not per image.
 *
 * <p>The label numbers must be known before a row is written: the labels are gathered while the
 * samples are read into {@link OrderedWrite}'s shuffle, whose writing side starts once all are
 * read ({@link OrderedWrite#writeFindingClasses}). Each shard is read once, as one sequential read.
 */
final class WebDatasetInput {
    private WebDatasetInput() {}

    /** A shard: its split, where it is, its size. */
    record Shard(String split, String path, long bytes) implements Serializable {
        String name() {
            return path.substring(path.lastIndexOf('/') + 1);
        }
    }

    static DatasetPreparation.Prepared prepare(SparkSession spark, PrepareConfig cfg, Manifest.RowOrder rowOrder,
            PrepareOptions options, Path staging) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        String input = cfg.input();
        List<Shard> shards = new ArrayList<>();
        Path root = new Path(input);
        boolean folders = !ShardPattern.isPattern(input)
                && root.getFileSystem(conf).isDirectory(new Path(root, "train"));
        if (cfg.splits().contains("train")) {
            shards.addAll(list(conf, folders ? new Path(root, "train").toString() : input, "train"));
        }
        if (cfg.splits().contains("val")) {
            if (folders && root.getFileSystem(conf).isDirectory(new Path(root, "val"))) {
                shards.addAll(list(conf, new Path(root, "val").toString(), "val"));
            }
            if (cfg.webdataset().valShards() != null) {
                shards.addAll(list(conf, cfg.webdataset().valShards(), "val"));
            }
        }
        if (shards.isEmpty()) {
            throw new IOException("input " + input + " has no .tar shards of the splits " + cfg.splits());
        }
        List<String> splits = cfg.splits().stream().filter(s -> shards.stream().anyMatch(h -> h.split().equals(s)))
                .sorted((a, b) -> a.equals("train") ? -1 : b.equals("train") ? 1 : 0).toList();
        int cores = spark.sparkContext().defaultParallelism();
        List<List<Shard>> groups = PrepareTask.plan(shards, Shard::split, Shard::bytes, cfg.shardBytes(),
                cfg.tasks() > 0 ? cfg.tasks() : 2 * cores);
        long bytes = shards.stream().mapToLong(Shard::bytes).sum();
        System.out.printf(Locale.ROOT, "[prepare] %s: %d WebDataset shards (%.1f MiB), splits %s -> %d read tasks%n",
                input, shards.size(), bytes / 1048576.0, splits, groups.size());

        Map<String, String> hadoop = SparkSessions.hadoopConf(spark);
        String field = cfg.webdataset().labelField();
        JavaRDD<List<Shard>> tasks = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(groups, groups.size());
        long t0 = System.nanoTime();
        int writers = cfg.tasks() > 0 ? cfg.tasks() : (int) Math.max(2L * cores, bytes / cfg.shardBytes() + 1);
        return OrderedWrite.writeFindingClasses(spark, tasks.flatMap(group -> read(group, hadoop, field)), splits,
                rowOrder, options, staging, writers, classes -> System.out.printf(Locale.ROOT,
                        "[prepare] %s: read in %.1f s, %d classes (labels from %s)%n", input,
                        (System.nanoTime() - t0) / 1e9, classes.size(),
                        field == null ? "KEY.cls" : "the field '" + field + "' of KEY.json"));
    }

    /** The samples of a task's shards, one after the other. */
    private static java.util.Iterator<InputImage> read(List<Shard> group, Map<String, String> hadoop, String field) {
        Configuration c = SparkSessions.rebuild(hadoop);
        return new TarUnits<>(group, TarUnits.reader(Shard::split, Shard::name, s -> {
            Path p = new Path(s.path());
            return TarUnits.range(p.getFileSystem(c), p, s.bytes(), 0, s.bytes());
        }, (s, in) -> new WebDatasetSamples(new TarMembers(in), s.name(), s.split(), field)));
    }

    /** The shards a folder (its .tar files, sorted) or a brace pattern names, with their sizes. */
    static List<Shard> list(Configuration conf, String where, String split) throws IOException {
        List<Shard> out = new ArrayList<>();
        if (ShardPattern.isPattern(where)) {
            List<String> names;
            try {
                names = ShardPattern.expand(where);
            } catch (IllegalArgumentException e) {
                throw new IOException(e.getMessage(), e);
            }
            for (String p : names) {
                Path path = new Path(p);
                FileSystem fs = path.getFileSystem(conf);
                FileStatus st;
                try {
                    st = fs.getFileStatus(path);
                } catch (java.io.FileNotFoundException e) {
                    throw new IOException("shard " + p + " of " + where + " does not exist", e);
                }
                out.add(new Shard(split, st.getPath().toString(), st.getLen()));
            }
            return out;
        }
        Path dir = new Path(where);
        FileSystem fs = dir.getFileSystem(conf);
        if (!fs.exists(dir)) {
            throw new IOException("input " + where + " does not exist");
        }
        if (fs.isFile(dir)) {
            FileStatus st = fs.getFileStatus(dir);
            return List.of(new Shard(split, st.getPath().toString(), st.getLen()));
        }
        for (FileStatus st : fs.listStatus(dir)) {
            String name = st.getPath().getName();
            if (st.isFile() && name.endsWith(".tar") && !name.startsWith(".") && !name.startsWith("_")) {
                out.add(new Shard(split, st.getPath().toString(), st.getLen()));
            }
        }
        out.sort(java.util.Comparator.comparing(Shard::path));
        if (out.isEmpty()) {
            throw new IOException("input " + where + " holds no .tar shards");
        }
        return out;
    }
}
