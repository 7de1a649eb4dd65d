package siameseim.datasets.shards;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * {@code manifest.json} of a prepared dataset (docs/dataset-format.md): the class list (sorted
 * WordNet ids; position = class index), per split the image count, per-class counts and shards,
 * the order the rows are stored in, the bad-file report, and the preparation config. A dataset
 * without a manifest is not a dataset: the manifest is written last.
 */
public record Manifest(String source, List<String> classes, Map<String, Split> splits, RowOrder rowOrder,
        List<BadFile> badFiles, JsonObject config) {

    public static final String FILE = "manifest.json";
    public static final String FORMAT = "siameseim-dataset";
    public static final int VERSION = 1;

    /** One split (train, val). */
    public record Split(long images, long[] perClass, List<ShardInfo> shards) {
        public long[] shardRows() {
            long[] r = new long[shards.size()];
            for (int i = 0; i < r.length; i++) {
                r[i] = shards.get(i).rows();
            }
            return r;
        }
    }

    /**
     * The order of a split's rows across its shards (in manifest order): {@link #SHUFFLED}, a
     * uniformly random permutation drawn with {@code seed} (every run of consecutive rows is a
     * uniform sample of the split), {@link #SORTED} by class and file name, or {@link #UNKNOWN}
     * (a manifest written before the field existed: sorted).
     */
    public record RowOrder(String kind, long seed) {
        public static final String SHUFFLED = "shuffled";
        public static final String SORTED = "sorted";
        public static final String UNKNOWN = "unknown";

        public boolean shuffled() {
            return kind.equals(SHUFFLED);
        }

        @Override
        public String toString() {
            return shuffled() ? kind + " (seed " + seed + ")" : kind;
        }
    }

    /** A file the preparation skipped, and why. */
    public record BadFile(String path, String reason, String detail) implements java.io.Serializable {}

    /**
     * Fails in one line when the dataset has no labels, naming what needs them: an unlabelled input
     * (its held-out val split included) serves pretraining and embeddings, not kNN or probes.
     */
    public void requireLabels(String what) {
        if (classes.isEmpty()) {
            throw new IllegalArgumentException(what + " needs labels, and the dataset has none (prepared from an"
                    + " input without labels, such as prepare.layout = unlabelled): it serves pretraining and embed");
        }
    }

    public boolean hasSplit(String name) {
        return splits.containsKey(name);
    }

    public Split split(String name) {
        Split s = splits.get(name);
        if (s == null) {
            throw new IllegalArgumentException("the dataset has no split '" + name + "' (it has " + splits.keySet()
                    + "; a split is missing when the prepared input had no " + name + "/ folder)");
        }
        return s;
    }

    public String toJson() {
        JsonObject o = new JsonObject();
        o.addProperty("format", FORMAT);
        o.addProperty("version", VERSION);
        o.addProperty("source", source);
        JsonArray cls = new JsonArray();
        classes.forEach(cls::add);
        o.add("classes", cls);
        JsonObject sp = new JsonObject();
        for (Map.Entry<String, Split> e : splits.entrySet()) {
            JsonObject s = new JsonObject();
            s.addProperty("images", e.getValue().images());
            JsonArray pc = new JsonArray();
            for (long c : e.getValue().perClass()) {
                pc.add(c);
            }
            s.add("per_class", pc);
            JsonArray shards = new JsonArray();
            for (ShardInfo si : e.getValue().shards()) {
                JsonObject j = new JsonObject();
                j.addProperty("path", si.path());
                j.addProperty("rows", si.rows());
                j.addProperty("bytes", si.bytes());
                j.addProperty("crc32c", si.crc32c());
                shards.add(j);
            }
            s.add("shards", shards);
            sp.add(e.getKey(), s);
        }
        o.add("splits", sp);
        JsonObject order = new JsonObject();
        order.addProperty("kind", rowOrder.kind());
        order.addProperty("seed", rowOrder.seed());
        o.add("row_order", order);
        JsonArray bad = new JsonArray();
        for (BadFile b : badFiles) {
            JsonObject j = new JsonObject();
            j.addProperty("path", b.path());
            j.addProperty("reason", b.reason());
            j.addProperty("detail", b.detail());
            bad.add(j);
        }
        o.add("bad_files", bad);
        o.add("config", config == null ? new JsonObject() : config);
        Gson gson = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();
        return gson.toJson(o) + "\n";
    }

    public static Manifest parse(String json, String source) throws IOException {
        try {
            JsonObject o = JsonParser.parseString(json).getAsJsonObject();
            if (!FORMAT.equals(o.get("format").getAsString())) {
                throw new IOException(source + " is not a siameseim dataset manifest (format "
                        + o.get("format") + ")");
            }
            int version = o.get("version").getAsInt();
            if (version != VERSION) {
                throw new IOException(source + " has dataset format version " + version + "; this build reads "
                        + VERSION);
            }
            List<String> classes = new ArrayList<>();
            o.getAsJsonArray("classes").forEach(e -> classes.add(e.getAsString()));
            Map<String, Split> splits = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> e : o.getAsJsonObject("splits").entrySet()) {
                JsonObject s = e.getValue().getAsJsonObject();
                JsonArray pc = s.getAsJsonArray("per_class");
                long[] perClass = new long[pc.size()];
                for (int i = 0; i < perClass.length; i++) {
                    perClass[i] = pc.get(i).getAsLong();
                }
                List<ShardInfo> shards = new ArrayList<>();
                for (JsonElement je : s.getAsJsonArray("shards")) {
                    JsonObject j = je.getAsJsonObject();
                    shards.add(new ShardInfo(j.get("path").getAsString(), j.get("rows").getAsLong(),
                            j.get("bytes").getAsLong(), j.get("crc32c").getAsString()));
                }
                splits.put(e.getKey(), new Split(s.get("images").getAsLong(), perClass, shards));
            }
            JsonObject order = o.getAsJsonObject("row_order");
            RowOrder rowOrder = order == null ? new RowOrder(RowOrder.UNKNOWN, 0)
                    : new RowOrder(order.get("kind").getAsString(), order.get("seed").getAsLong());
            List<BadFile> bad = new ArrayList<>();
            for (JsonElement je : o.getAsJsonArray("bad_files")) {
                JsonObject j = je.getAsJsonObject();
                bad.add(new BadFile(j.get("path").getAsString(), j.get("reason").getAsString(),
                        j.get("detail").getAsString()));
            }
            return new Manifest(o.get("source").getAsString(), Collections.unmodifiableList(classes), splits,
                    rowOrder, bad, o.getAsJsonObject("config"));
        } catch (RuntimeException e) {
            throw new IOException(source + " is not a valid dataset manifest: " + e.getMessage(), e);
        }
    }

    /** Reads {@code <root>/manifest.json}. */
    public static Manifest read(Configuration conf, Path root) throws IOException {
        Path p = new Path(root, FILE);
        FileSystem fs = p.getFileSystem(conf);
        if (!fs.exists(p)) {
            throw new IOException(root + " is not a prepared dataset: " + FILE + " is missing (run bin/siameseim prepare,"
                    + " or an earlier preparation did not finish)");
        }
        try (InputStream in = fs.open(p)) {
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), p.toString());
        }
    }

    public void write(Configuration conf, Path root) throws IOException {
        Path p = new Path(root, FILE);
        try (OutputStream out = p.getFileSystem(conf).create(p, true)) {
            out.write(toJson().getBytes(StandardCharsets.UTF_8));
        }
    }
}
