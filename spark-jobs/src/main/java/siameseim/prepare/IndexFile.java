package siameseim.prepare;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import siameseim.datasets.prepare.SourceListing;

/**
 * An index of images (prepare.layout = index): a CSV or TSV file with a header, or JSON lines,
 * read with Spark's own readers, with a {@code path} column and optional {@code label} and
 * {@code split} (train or val; default train) columns. Paths are relative to the index's folder
 * or absolute URIs ({@code s3a://...}, {@code hdfs://...}, {@code /...}).
 */
final class IndexFile {
    private IndexFile() {}

    /** The index's rows of the {@code splits} asked for (prepare.splits); rows of other splits are left out. */
    static SourceListing listing(SparkSession spark, Path index, List<String> splits) throws IOException {
        String name = index.getName().toLowerCase(Locale.ROOT);
        Dataset<Row> df;
        if (name.endsWith(".csv") || name.endsWith(".tsv")) {
            df = spark.read().option("header", true).option("sep", name.endsWith(".tsv") ? "\t" : ",")
                    .option("mode", "FAILFAST").csv(index.toString());
        } else if (name.endsWith(".jsonl") || name.endsWith(".json") || name.endsWith(".ndjson")) {
            df = spark.read().option("mode", "FAILFAST").json(index.toString());
        } else {
            throw new IOException("index " + index + ": unknown format (name it .csv, .tsv or .jsonl)");
        }
        List<String> cols = Arrays.asList(df.columns());
        if (!cols.contains("path")) {
            throw new IOException("index " + index + " has no 'path' column (its columns: " + cols + ")");
        }
        boolean labelled = cols.contains("label");
        boolean split = cols.contains("split");
        List<Row> rows;
        try {
            rows = df.selectExpr("CAST(path AS STRING)", labelled ? "CAST(label AS STRING)" : "CAST(NULL AS STRING)",
                    split ? "CAST(split AS STRING)" : "'train'").collectAsList();
        } catch (RuntimeException e) {
            throw new IOException("index " + index + " is not valid: " + firstLine(e.getMessage()), e);
        }
        Path base = index.getParent();
        List<String[]> out = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            String path = r.isNullAt(0) ? "" : r.getString(0).trim();
            String where = "index " + index + " row " + (i + 1);
            if (path.isEmpty()) {
                throw new IOException(where + " has no path");
            }
            String s = r.isNullAt(2) || r.getString(2).isBlank() ? "train" : r.getString(2).trim();
            if (!s.equals("train") && !s.equals("val")) {
                throw new IOException(where + ": split '" + s + "' (train or val)");
            }
            Path p = new Path(path);
            String resolved = p.isAbsoluteAndSchemeAuthorityNull() || p.toUri().getScheme() != null ? p.toString()
                    : new Path(base, path).toString();
            String label = r.isNullAt(1) || r.getString(1).isBlank() ? null : r.getString(1).trim();
            if (splits.contains(s)) {
                out.add(new String[] {resolved, label, s});
            }
        }
        if (out.isEmpty()) {
            throw new IOException("index " + index + " lists no images of the splits " + splits);
        }
        return SourceListing.index(spark.sparkContext().hadoopConfiguration(), out, splits);
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }
}
