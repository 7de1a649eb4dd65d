package siameseim.config;

import com.typesafe.config.Config;
import java.util.List;

/**
 * The dataset preparation job's settings (section {@code prepare}). {@code shuffle}: rows are
 * stored in a uniform random order drawn with {@code seed} (prepare.row-order = shuffled), else in
 * the listing's sorted order. {@code layout}: what the input is ({@link Layout}). {@code heldOut}: the
 * fraction of an unlabelled input's images drawn with {@code seed} into a val split. {@code json}: the
 * section as given, recorded in the manifest.
 */
public record PrepareConfig(String input, String output, List<String> splits, String valGroundTruth,
        long shardBytes, int resizeShorterSide, int jpegQuality, long maxPixels, double maxBadFraction,
        String decoder, int tasks, int readAhead, boolean shuffle, long seed, Layout layout, String tableFormat,
        double heldOut, String json)
        implements java.io.Serializable {

    /** What the input is (prepare.layout). */
    public enum Layout {
        /** train/<wnid>/* and an optional val/ */
        IMAGENET,
        /** every image below the input, at any depth, without labels */
        UNLABELLED,
        /** a CSV, TSV or JSON-lines file of path, optional label, optional split */
        INDEX,
        /** a table any Spark source reads, with a binary column of encoded images */
        TABLE
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
        if (!List.of("imagenet", "unlabelled", "index", "table").contains(layout)) {
            throw r.invalid("prepare.layout", "must be imagenet, unlabelled, index or table");
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
                heldOut, ConfigLoader.toJson(config.getConfig("prepare")));
    }
}
