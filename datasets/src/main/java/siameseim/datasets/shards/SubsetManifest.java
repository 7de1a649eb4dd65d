package siameseim.datasets.shards;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A subset of a split as a small manifest over the dataset's own shards: the selected rows as
 * (shard, row) pairs in dataset order. Made from an ImageNet-style list of file names (the 1 %
 * split's {@code n04235860_14959.JPEG} lines; class = text before the first "_") or by seeded
 * sampling of N images per class.
 */
public record SubsetManifest(String dataset, String split, String selection, long[] perClass, List<String> missing,
        long[][] rows) {

    public static final String FORMAT = "siameseim-subset";
    public static final int VERSION = 1;

    public int size() {
        return rows.length;
    }

    /** The subset of the images named in {@code listFile} (one file name per line). */
    public static SubsetManifest fromList(Configuration conf, Path dataset, Manifest m, String split, Path listFile)
            throws IOException {
        List<String> names = new ArrayList<>();
        FileSystem fs = listFile.getFileSystem(conf);
        try (BufferedReader r = new BufferedReader(new InputStreamReader(fs.open(listFile), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                line = line.trim();
                if (!line.isEmpty() && !line.startsWith("#")) {
                    names.add(line);
                }
            }
        }
        if (names.isEmpty()) {
            throw new IOException(listFile + " lists no images");
        }
        Set<String> wanted = new HashSet<>(names);
        Set<String> found = new HashSet<>();
        List<long[]> rows = new ArrayList<>();
        long[] perClass = new long[m.classes().size()];
        List<ShardInfo> shards = m.split(split).shards();
        for (int s = 0; s < shards.size(); s++) {
            for (ShardReader.KeyLabel k : ShardReader.keys(conf, new Path(dataset, shards.get(s).path()))) {
                String file = k.key().substring(k.key().lastIndexOf('/') + 1);
                if (wanted.contains(file)) {
                    rows.add(new long[] {s, k.row()});
                    perClass[k.label()]++;
                    found.add(file);
                }
            }
        }
        if (rows.isEmpty()) {
            throw new IOException("none of the " + names.size() + " images listed in " + listFile + " is in the "
                    + split + " split of " + dataset);
        }
        List<String> missing = new ArrayList<>();
        for (String n : names) {
            if (!found.contains(n)) {
                missing.add(n);
            }
        }
        return new SubsetManifest(dataset.toString(), split, "list " + listFile.getName(), perClass, missing,
                rows.toArray(new long[0][]));
    }

    /** {@code perClass} images of each class drawn with {@code seed} (all of a class if it has fewer). */
    public static SubsetManifest perClass(Configuration conf, Path dataset, Manifest m, String split, int perClass,
            long seed) throws IOException {
        int classes = m.classes().size();
        List<List<long[]>> byClass = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            byClass.add(new ArrayList<>());
        }
        List<ShardInfo> shards = m.split(split).shards();
        for (int s = 0; s < shards.size(); s++) {
            for (ShardReader.KeyLabel k : ShardReader.keys(conf, new Path(dataset, shards.get(s).path()))) {
                byClass.get(k.label()).add(new long[] {s, k.row()});
            }
        }
        List<long[]> rows = new ArrayList<>();
        long[] counts = new long[classes];
        for (int c = 0; c < classes; c++) {
            List<long[]> all = byClass.get(c);
            SplittableRandom rng = new SplittableRandom(seed * 1_000_003L + c);
            int take = Math.min(perClass, all.size());
            // partial Fisher-Yates: the first `take` of a seeded permutation
            for (int i = 0; i < take; i++) {
                int j = i + rng.nextInt(all.size() - i);
                long[] t = all.get(i);
                all.set(i, all.get(j));
                all.set(j, t);
            }
            rows.addAll(all.subList(0, take));
            counts[c] = take;
        }
        rows.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        return new SubsetManifest(dataset.toString(), split, perClass + " per class, seed " + seed, counts, List.of(),
                rows.toArray(new long[0][]));
    }

    public String toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("format", FORMAT);
        o.addProperty("version", VERSION);
        o.addProperty("dataset", dataset);
        o.addProperty("split", split);
        o.addProperty("selection", selection);
        o.addProperty("images", rows.length);
        JsonArray pc = new JsonArray();
        for (long c : perClass) {
            pc.add(c);
        }
        o.add("per_class", pc);
        JsonArray miss = new JsonArray();
        missing.forEach(miss::add);
        o.add("missing", miss);
        JsonArray r = new JsonArray();
        for (long[] row : rows) {
            JsonArray pair = new JsonArray();
            pair.add(row[0]);
            pair.add(row[1]);
            r.add(pair);
        }
        o.add("rows", r);
        return new GsonBuilder().disableHtmlEscaping().create().toJson(o) + "\n";
    }

    public void write(Configuration conf, Path file) throws IOException {
        try (OutputStream out = file.getFileSystem(conf).create(file, true)) {
            out.write(toJson().getBytes(StandardCharsets.UTF_8));
        }
    }

    public static SubsetManifest read(Configuration conf, Path file) throws IOException {
        String json;
        try (InputStream in = file.getFileSystem(conf).open(file)) {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        try {
            JsonObject o = JsonParser.parseString(json).getAsJsonObject();
            if (!FORMAT.equals(o.get("format").getAsString())) {
                throw new IOException(file + " is not a subset manifest");
            }
            JsonArray pc = o.getAsJsonArray("per_class");
            long[] perClass = new long[pc.size()];
            for (int i = 0; i < perClass.length; i++) {
                perClass[i] = pc.get(i).getAsLong();
            }
            List<String> missing = new ArrayList<>();
            o.getAsJsonArray("missing").forEach(e -> missing.add(e.getAsString()));
            JsonArray r = o.getAsJsonArray("rows");
            long[][] rows = new long[r.size()][];
            int i = 0;
            for (JsonElement e : r) {
                JsonArray pair = e.getAsJsonArray();
                rows[i++] = new long[] {pair.get(0).getAsLong(), pair.get(1).getAsLong()};
            }
            return new SubsetManifest(o.get("dataset").getAsString(), o.get("split").getAsString(),
                    o.get("selection").getAsString(), perClass, missing, rows);
        } catch (RuntimeException e) {
            throw new IOException(file + " is not a valid subset manifest: " + e.getMessage(), e);
        }
    }
}
