package siameseim.config;

import com.typesafe.config.Config;
import java.util.List;

/**
 * The dataset preparation job's settings (section {@code prepare}). {@code shuffle}: rows are
 * stored in a uniform random order drawn with {@code seed} (prepare.row-order = shuffled), else in
 * the listing's sorted order. {@code layout}: what the input is ({@link Layout}). {@code heldOut}: the
 * fraction of an unlabelled input's images drawn with {@code seed} into a val split. {@code json}: the
 * section as given, recorded in the manifest. {@code table} and {@code webdataset}: how those layouts read
 * their input.
 */
public record PrepareConfig(String input, String output, List<String> splits, String valGroundTruth,
        long shardBytes, int resizeShorterSide, int jpegQuality, long maxPixels, double maxBadFraction,
        String decoder, int tasks, int readAhead, boolean shuffle, long seed, Layout layout, String tableFormat,
        double heldOut, Table table, WebDataset webdataset, String json)
        implements java.io.Serializable {

    /**
     * The columns of layout = table (prepare.table.*): {@code null} where the key is {@code auto}
     * (the table's own columns decide, docs/dataset-format.md). {@code labelFromPath}: the class is
     * the name of the folder holding the row's path (Spark's binaryFile tables of a class tree).
     */
    public record Table(String imageColumn, String keyColumn, String labelColumn, String splitColumn,
            boolean labelFromPath) implements java.io.Serializable {}

    /**
     * Layout = webdataset (prepare.webdataset.*): {@code labelField} the JSON field holding a
     * sample's label (null: its cls member); {@code valShards} the shards of a val split (null: none,
     * or the input folder's val/).
     */
    public record WebDataset(String labelField, String valShards) implements java.io.Serializable {}

    /** What the input is (prepare.layout). */
    public enum Layout {
        /** train/<wnid>/* and an optional val/ */
        IMAGENET,
        /** every image below the input, at any depth, without labels */
        UNLABELLED,
        /** a CSV, TSV or JSON-lines file of path, optional label, optional split */
        INDEX,
        /** a table any Spark source reads, with a binary column of encoded images */
        TABLE,
        /** WebDataset tar shards: a folder, or a brace pattern of shard names */
        WEBDATASET,
        /** ImageNet as it ships: ILSVRC2012_img_train.tar (a tar of class tars), optional val tar and labels */
        ILSVRC
    }

    public static PrepareConfig from(Config config) {
        ConfigReader r = new ConfigReader(config);
        if (r.isNull("prepare.input")) {
            throw new ConfigError("prepare.input", "is not set: give the ImageNet-layout root (--input DIR or"
                    + " --set prepare.input=...)");
        }
        if (r.isNull("prepare.output")) {
            throw new ConfigError("prepare.output", "is not set: give the dataset folder to write (--output DIR)");
        }
        List<String> splits;
        try {
            splits = config.getStringList("prepare.splits");
        } catch (com.typesafe.config.ConfigException e) {
            throw r.invalid("prepare.splits", "must be a list of split names");
        }
        if (splits.isEmpty() || !splits.stream().allMatch(s -> s.equals("train") || s.equals("val"))) {
            throw r.invalid("prepare.splits", "must list train and/or val");
        }
        String decoder = r.stringValue("prepare.decoder");
        if (!decoder.equals("opencv") && !decoder.equals("imageio")) {
            throw r.invalid("prepare.decoder", "must be opencv or imageio");
        }
        String layout = r.stringValue("prepare.layout");
        if (!List.of("imagenet", "unlabelled", "index", "table", "webdataset", "ilsvrc").contains(layout)) {
            throw r.invalid("prepare.layout", "must be imagenet, unlabelled, index, table, webdataset or ilsvrc");
        }
        String order = r.stringValue("prepare.row-order");
        if (!order.equals("shuffled") && !order.equals("sorted")) {
            throw r.invalid("prepare.row-order", "must be shuffled or sorted");
        }
        double heldOut = r.doubleValue("prepare.held-out", Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);
        if (!(heldOut >= 0 && heldOut < 1)) {
            throw r.invalid("prepare.held-out", "must be in [0, 1): the fraction of the images held out of train");
        }
        if (heldOut > 0 && !layout.equals("unlabelled")) {
            throw r.invalid("prepare.held-out", "applies to prepare.layout = unlabelled only (" + layout
                    + " takes its val split from the input)");
        }
        if (heldOut > 0 && !splits.contains("val")) {
            throw r.invalid("prepare.held-out", "puts images into the val split, which prepare.splits " + splits
                    + " leaves out");
        }
        return new PrepareConfig(r.stringValue("prepare.input"), r.stringValue("prepare.output"), splits,
                r.isNull("prepare.val-ground-truth") ? null : r.stringValue("prepare.val-ground-truth"),
                (long) r.intValue("prepare.shard-size-mb", 1, 1 << 20) << 20,
                r.intValue("prepare.resize-shorter-side", 0, 1 << 16), r.intValue("prepare.jpeg-quality", 1, 100),
                r.longValue("prepare.max-pixels"), r.doubleValue("prepare.max-bad-fraction", 0, 1), decoder,
                r.intValue("prepare.tasks", 0, 1 << 20), r.intValue("prepare.read-ahead", 1, 256),
                order.equals("shuffled"), r.longValue("prepare.seed"),
                Layout.valueOf(layout.toUpperCase(java.util.Locale.ROOT)), r.stringValue("prepare.table-format"),
                heldOut, table(r), webdataset(r), ConfigLoader.toJson(config.getConfig("prepare")));
    }

    private static Table table(ConfigReader r) {
        String[] cols = new String[4];
        String[] keys = {"prepare.table.image-column", "prepare.table.key-column", "prepare.table.label-column",
            "prepare.table.split-column"};
        for (int i = 0; i < keys.length; i++) {
            String v = r.isNull(keys[i]) ? "" : r.stringValue(keys[i]).trim();
            if (v.isEmpty()) {
                throw r.invalid(keys[i], "must name a column, or be auto");
            }
            cols[i] = v.equals("auto") ? null : v;
        }
        return new Table(cols[0], cols[1], cols[2], cols[3], r.booleanValue("prepare.table.label-from-path"));
    }

    private static WebDataset webdataset(ConfigReader r) {
        String field = r.isNull("prepare.webdataset.label-field") ? null
                : r.stringValue("prepare.webdataset.label-field").trim();
        if (field != null && field.isEmpty()) {
            throw r.invalid("prepare.webdataset.label-field", "must name a JSON field, or be null (the cls member)");
        }
        return new WebDataset(field, r.isNull("prepare.webdataset.val-shards") ? null
                : r.stringValue("prepare.webdataset.val-shards"));
    }
}
