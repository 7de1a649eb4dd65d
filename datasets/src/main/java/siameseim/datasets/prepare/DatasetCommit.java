package siameseim.datasets.prepare;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.ShardInfo;

/**
 * Turns the tasks' results into a manifest and publishes the dataset: shards are moved from the
 * staging folder into the output folder one file at a time and {@code manifest.json} is written
 * last, so on every file system (HDFS, S3, local) a reader either finds a complete dataset or
 * no manifest at all.
 */
public final class DatasetCommit {
    private DatasetCommit() {}

    /** The staging folder of an output folder. */
    public static Path staging(Path output) {
        return new Path(output.getParent(), "." + output.getName() + ".preparing");
    }

    /** @param rowOrder the order of the listing the tasks were cut from (task order = row order) */
    public static Manifest manifest(String source, List<String> classes, List<String> splits,
            List<PrepareTask.Result> results, Manifest.RowOrder rowOrder, JsonObject config) {
        List<PrepareTask.Result> sorted = new ArrayList<>(results);
        sorted.sort(Comparator.comparingInt(PrepareTask.Result::task));
        Map<String, Manifest.Split> out = new LinkedHashMap<>();
        List<Manifest.BadFile> bad = new ArrayList<>();
        for (String split : splits) {
            long[] perClass = new long[classes.size()];
            List<ShardInfo> shards = new ArrayList<>();
            long images = 0;
            for (PrepareTask.Result r : sorted) {
                long[] pc = r.perClass().get(split);
                if (pc != null) {
                    for (int i = 0; i < pc.length; i++) {
                        perClass[i] += pc[i];
                    }
                }
                images += r.images().getOrDefault(split, 0L);
                shards.addAll(r.shards().getOrDefault(split, List.of()));
            }
            out.put(split, new Manifest.Split(images, perClass, shards));
        }
        sorted.forEach(r -> bad.addAll(r.bad()));
        bad.sort(Comparator.comparing(Manifest.BadFile::path)); // tasks meet them in row order
        return new Manifest(source, classes, out, rowOrder, bad, config);
    }

    /** Publishes {@code staging} as {@code output} (replacing a previous dataset there). */
    public static void publish(Configuration conf, Path staging, Path output, Manifest manifest) throws IOException {
        FileSystem fs = output.getFileSystem(conf);
        if (fs.exists(output)) {
            // the manifest goes first: from here on the old dataset is no longer a dataset
            fs.delete(new Path(output, Manifest.FILE), false);
            fs.delete(output, true);
        }
        fs.mkdirs(output);
        for (Manifest.Split s : manifest.splits().values()) {
            for (ShardInfo shard : s.shards()) {
                Path to = new Path(output, shard.path());
                fs.mkdirs(to.getParent());
                if (!fs.rename(new Path(staging, shard.path()), to)) {
                    throw new IOException("could not move " + new Path(staging, shard.path()) + " to " + to);
                }
            }
        }
        manifest.write(conf, output);
        fs.delete(staging, true);
    }
}
