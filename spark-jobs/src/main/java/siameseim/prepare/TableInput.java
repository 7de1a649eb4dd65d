package siameseim.prepare;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.monotonically_increasing_id;
import static org.apache.spark.sql.functions.xxhash64;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import siameseim.config.PrepareConfig;
import siameseim.datasets.prepare.PrepareOptions;
import siameseim.datasets.prepare.PrepareTask;
import siameseim.datasets.shards.Manifest;
import siameseim.spark.SparkSessions;

/**
 * Images already in a table (prepare.layout = table): any source Spark's DataFrame reader reads
 * ({@code prepare.table-format}: Parquet by default) with a binary column {@code image} of encoded
 * images and optional {@code label}, {@code split} (train or val) and {@code key} columns. The
 * executors prepare the rows where they are read; the stored row order is drawn per row from
 * (prepare.seed, key), so the same table and seed give the same dataset, and each task writes a
 * contiguous range of that order. Without a {@code key} column a row is named by its position
 * ({@code row-<id>}), stable for the same input files.
 */
final class TableInput {
    private TableInput() {}

    static DatasetPreparation.Prepared prepare(SparkSession spark, PrepareConfig cfg, Manifest.RowOrder rowOrder,
            PrepareOptions options, Path staging) throws IOException {
        String input = cfg.input();
        Dataset<Row> df;
        try {
            df = spark.read().format(cfg.tableFormat()).load(input);
        } catch (RuntimeException e) {
            throw new IOException("input " + input + " cannot be read as a " + cfg.tableFormat() + " table: "
                    + firstLine(e.getMessage()), e);
        }
        List<String> cols = Arrays.asList(df.columns());
        if (!cols.contains("image") || !df.schema().apply("image").dataType().equals(DataTypes.BinaryType)) {
            throw new IOException("table " + input + " has no binary column 'image' of encoded images (its columns: "
                    + df.schema().simpleString() + ")");
        }
        Column key = cols.contains("key") ? col("key").cast("string")
                : concat(lit("row-"), monotonically_increasing_id().cast("string"));
        Column label = cols.contains("label") ? col("label").cast("string") : lit(null).cast("string");
        Column split = cols.contains("split") ? coalesce(col("split").cast("string"), lit("train")) : lit("train");
        Dataset<Row> rows = df.select(key.as("key"), label.as("label"), split.as("split"), col("image"));
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
        List<String> classes = rows.where(col("label").isNotNull()).select("label").distinct().sort("label")
                .collectAsList().stream().map(r -> r.getString(0)).toList();
        int tasks = cfg.tasks() > 0 ? cfg.tasks() : 2 * spark.sparkContext().defaultParallelism();
        Column order = rowOrder.shuffled() ? xxhash64(lit(rowOrder.seed()), col("key")) : lit(0L);
        Dataset<Row> ordered = rows.withColumn("order", order)
                .repartitionByRange(tasks, col("order"), col("label"), col("key"))
                .sortWithinPartitions("order", "label", "key");
        System.out.printf(Locale.ROOT, "[prepare] %s (%s table): %d classes, splits %s -> %d tasks, rows %s%n", input,
                cfg.tableFormat(), classes.size(), splits, tasks, rowOrder);
        Map<String, String> hadoop = SparkSessions.hadoopConf(spark);
        String stagingUri = staging.toString();
        List<PrepareTask.Result> results = ordered.javaRDD().mapPartitionsWithIndex((Integer idx, Iterator<Row> it) -> {
            Configuration c = SparkSessions.rebuild(hadoop);
            Iterator<Row> in = it;
            Iterator<PrepareTask.Item> items = new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return in.hasNext();
                }

                @Override
                public PrepareTask.Item next() {
                    Row r = in.next();
                    return new TableRow(r.getString(2), r.isNullAt(1) ? null : r.getString(1), r.getString(0),
                            r.isNullAt(3) ? new byte[0] : (byte[]) r.get(3));
                }
            };
            return List.of(PrepareTask.run(idx, items, classes, options, c, new Path(stagingUri))).iterator();
        }, true).collect();
        long inputs = 0;
        for (PrepareTask.Result r : results) {
            inputs += r.bad().size() + r.images().values().stream().mapToLong(Long::longValue).sum();
        }
        return new DatasetPreparation.Prepared(classes, splits, results, inputs);
    }

    /** One row of the table as an input image. */
    private record TableRow(String split, String wnid, String key, byte[] image) implements PrepareTask.Item {
        @Override
        public byte[] bytes(Configuration conf) {
            return image;
        }
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }
}
