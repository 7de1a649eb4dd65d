package siameseim.prepare;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.monotonically_increasing_id;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import siameseim.config.PrepareConfig;
import siameseim.datasets.prepare.InputImage;
import siameseim.datasets.prepare.PrepareOptions;
import siameseim.datasets.shards.Manifest;

/**
 * Images already in a table (prepare.layout = table): any source Spark's DataFrame reader reads
 * ({@code prepare.table-format}: Parquet by default). The columns (prepare.table.*, each
 * {@code auto} by default):
 * <ul>
 *   <li>image: a binary column of encoded images, or a Hugging Face {@code struct<bytes, path>};
 *       auto: {@code image}, else {@code content} (Spark's {@code binaryFile} source);
 *   <li>key, a row's name in reports and the seed of its place: auto: {@code key}, else the image
 *       struct's path, else {@code path}, else its position ({@code row-<id>}, stable for the same
 *       input files);
 *   <li>label: auto: {@code label} when present. Integer labels take their class names from the
 *       Parquet footer's {@code huggingface} metadata (the Hub's ClassLabel names; -1 is no label),
 *       else the classes are the sorted numbers. With {@code label-from-path} the class is the
 *       name of the folder holding the key;
 *   <li>split (train or val; rows without one are train).
 * </ul>
 * The executors read the rows and {@link OrderedWrite} puts them in stored order.
 */
final class TableInput {
    private TableInput() {}

    static DatasetPreparation.Prepared prepare(SparkSession spark, PrepareConfig cfg, Manifest.RowOrder rowOrder,
            PrepareOptions options, Path staging) throws IOException {
        String input = cfg.input();
        PrepareConfig.Table t = cfg.table();
        Dataset<Row> df;
        try {
            // binaryFile over a class tree: every file below the input, whatever its folder names
            df = spark.read().format(cfg.tableFormat())
                    .option("recursiveFileLookup", cfg.tableFormat().equalsIgnoreCase("binaryFile")).load(input);
        } catch (RuntimeException e) {
            throw new IOException("input " + input + " cannot be read as a " + cfg.tableFormat() + " table: "
                    + firstLine(e.getMessage()), e);
        }
        List<String> cols = Arrays.asList(df.columns());
        String imageCol = t.imageColumn() != null ? t.imageColumn() : cols.contains("image") ? "image" : "content";
        DataType imageType = cols.contains(imageCol) ? df.schema().apply(imageCol).dataType() : null;
        boolean struct = imageType instanceof StructType st && hasField(st, "bytes", DataTypes.BinaryType);
        if (!struct && !DataTypes.BinaryType.equals(imageType)) {
            throw new IOException("table " + input + " has no column '" + imageCol + "' of encoded images (binary,"
                    + " or struct<bytes: binary, path: string> as on the Hugging Face Hub; set"
                    + " prepare.table.image-column). Its columns: " + df.schema().simpleString());
        }
        Column image = struct ? col(imageCol + ".bytes") : col(imageCol);
        boolean structPath = struct && hasField((StructType) imageType, "path", DataTypes.StringType);
        Column position = concat(lit("row-"), monotonically_increasing_id().cast("string"));
        Column key;
        if (t.keyColumn() != null) {
            key = col(require(df, input, t.keyColumn(), "prepare.table.key-column")).cast("string");
        } else if (cols.contains("key")) {
            key = col("key").cast("string");
        } else if (structPath) {
            key = coalesce(col(imageCol + ".path"), position);
        } else if (cols.contains("path")) {
            key = col("path").cast("string");
        } else {
            key = position;
        }
        String labelCol = t.labelColumn() != null ? require(df, input, t.labelColumn(), "prepare.table.label-column")
                : cols.contains("label") ? "label" : null;
        if (t.labelFromPath() && labelCol != null && t.labelColumn() != null) {
            throw new IOException("prepare.table.label-from-path and prepare.table.label-column both name the"
                    + " label of " + input + ": set one");
        }
        boolean integral = labelCol != null && !t.labelFromPath() && isIntegral(df.schema().apply(labelCol).dataType());
        List<String> names = integral ? hubClassNames(spark, df, labelCol) : null;
        Column label = t.labelFromPath() || labelCol == null ? lit(null).cast("string") : col(labelCol).cast("string");
        String splitCol = t.splitColumn();
        Column split = cols.contains(splitCol) ? coalesce(col(splitCol).cast("string"), lit("train")) : lit("train");
        Dataset<Row> rows = df.select(key.as("key"), label.as("label"), split.as("split"), image.as("image"));

        List<String> splits = new ArrayList<>();
        for (Row r : rows.select("split").distinct().collectAsList()) {
            if (!r.getString(0).equals("train") && !r.getString(0).equals("val")) {
                throw new IOException("table " + input + " has split '" + r.getString(0) + "' (train or val)");
            }
            splits.add(r.getString(0));
        }
        splits.retainAll(cfg.splits()); // prepare.splits: rows of other splits are left out
        if (splits.isEmpty()) {
            throw new IOException("table " + input + " has no rows of the splits " + cfg.splits());
        }
        rows = rows.where(col("split").isin(splits.toArray()));
        splits.sort((a, b) -> a.equals("train") ? -1 : b.equals("train") ? 1 : 0);

        boolean fromPath = t.labelFromPath();
        JavaRDD<InputImage> images = rows.javaRDD().map(r -> {
            String k = r.getString(0);
            String l = r.isNullAt(1) ? null : r.getString(1);
            if (fromPath) {
                String[] parts = k.split("/");
                l = parts.length >= 2 && !parts[parts.length - 2].isEmpty() ? parts[parts.length - 2] : null;
            } else if (l != null && integral) {
                long n = Long.parseLong(l);
                l = n < 0 ? null : names == null ? l : n < names.size() ? names.get((int) n) : null; // -1: none
            }
            return InputImage.of(r.getString(2), l, k, r.isNullAt(3) ? null : (byte[]) r.get(3));
        });
        List<String> classes;
        if (names != null) {
            classes = names;
        } else if (labelCol == null && !fromPath) {
            classes = List.of();
        } else if (fromPath) { // the keys alone: a projection that reads no image
            classes = OrderedWrite.classes(rows.select("key").javaRDD().map(r -> {
                String[] parts = r.getString(0).split("/");
                return parts.length >= 2 ? parts[parts.length - 2] : "";
            }).filter(w -> !w.isEmpty()).distinct().collect());
        } else {
            classes = OrderedWrite.classes(rows.where(col("label").isNotNull()).select("label").distinct()
                    .collectAsList().stream().map(r -> r.getString(0))
                    .filter(l -> !integral || Long.parseLong(l) >= 0).toList());
        }
        int tasks = cfg.tasks() > 0 ? cfg.tasks() : 2 * spark.sparkContext().defaultParallelism();
        System.out.printf(Locale.ROOT, "[prepare] %s (%s table): %d classes%s, splits %s -> %d tasks, rows %s%n", input,
                cfg.tableFormat(), classes.size(), names != null ? " (names from its huggingface metadata)" : "",
                splits, tasks, rowOrder);
        return OrderedWrite.write(spark, images, classes, splits, rowOrder, options, staging, tasks);
    }

    /**
     * The class names of an integer label column from the {@code huggingface} key-value metadata of
     * the table's first Parquet file ({@code info.features.<label>.names}, the Hub's ClassLabel), or
     * null when it has none.
     */
    static List<String> hubClassNames(SparkSession spark, Dataset<Row> df, String labelCol) throws IOException {
        String[] files = df.inputFiles();
        Arrays.sort(files);
        if (files.length == 0 || !files[0].endsWith(".parquet")) {
            return null;
        }
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        String meta;
        try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(new Path(files[0]), conf))) {
            meta = r.getFooter().getFileMetaData().getKeyValueMetaData().get("huggingface");
        }
        if (meta == null) {
            return null;
        }
        try {
            JsonElement f = JsonParser.parseString(meta).getAsJsonObject().getAsJsonObject("info")
                    .getAsJsonObject("features").get(labelCol);
            if (f == null || !f.isJsonObject() || !f.getAsJsonObject().has("names")) {
                return null;
            }
            List<String> names = new ArrayList<>();
            f.getAsJsonObject().getAsJsonArray("names").forEach(n -> names.add(n.getAsString()));
            return names.isEmpty() ? null : List.copyOf(names);
        } catch (RuntimeException e) {
            throw new IOException(files[0] + ": its huggingface metadata cannot be read (" + e.getMessage() + ")", e);
        }
    }

    private static String require(Dataset<Row> df, String input, String col, String key) throws IOException {
        if (!Arrays.asList(df.columns()).contains(col)) {
            throw new IOException(key + " = " + col + ": table " + input + " has no such column (its columns: "
                    + df.schema().simpleString() + ")");
        }
        return col;
    }

    private static boolean hasField(StructType st, String name, DataType type) {
        for (StructField f : st.fields()) {
            if (f.name().equals(name) && f.dataType().equals(type)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isIntegral(DataType t) {
        return t.equals(DataTypes.IntegerType) || t.equals(DataTypes.LongType) || t.equals(DataTypes.ShortType)
                || t.equals(DataTypes.ByteType);
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }
}
