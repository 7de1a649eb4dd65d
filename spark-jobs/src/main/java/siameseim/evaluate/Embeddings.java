package siameseim.evaluate;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import siameseim.config.EvalConfig;
import siameseim.config.FeaturePool;
import siameseim.datasets.augment.Resampler;
import siameseim.datasets.shards.Manifest;

/**
 * Embeddings of a prepared dataset's images as a Parquet table: key (the image's path in the
 * source), label (null when the dataset is unlabelled), split, and the embedding (CLS token or
 * mean of the patch tokens, optionally L2-normalised) as an array of floats. Computed by the
 * executors ({@link FeatureExtraction}: the evaluation transform and the frozen encoder, batched,
 * deterministic), written to a staging folder and moved into place at the end, so a failed run
 * leaves no partial table.
 */
public final class Embeddings {
    private Embeddings() {}

    /** What was written. */
    public record Result(Path output, long images, int dimension, double seconds) {}

    public static Result run(SparkSession spark, EvalConfig cfg, List<String> splits, FeaturePool pool,
            boolean normalize, String output, Consumer<String> out) throws IOException {
        long start = System.nanoTime();
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Manifest m = Manifest.read(conf, new Path(cfg.dataPath()));
        List<String> chosen = splits.isEmpty() ? new ArrayList<>(m.splits().keySet()) : splits;
        for (String s : chosen) {
            m.split(s); // names the missing split before any stage
        }
        Path target = new Path(output);
        FileSystem fs = target.getFileSystem(conf);
        Path staging = new Path(target.getParent(), "." + target.getName() + ".embedding");
        fs.delete(staging, true); // what a failed run left
        StructType schema = new StructType().add("key", DataTypes.StringType, false)
                .add("label", DataTypes.IntegerType, true).add("split", DataTypes.StringType, false)
                .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), false);
        JavaRDD<Row> rows = null;
        for (String split : chosen) {
            JavaRDD<Row> r = FeatureExtraction.run(spark, cfg, split, pool, 0, null, Resampler.Filter.BICUBIC)
                    .map(f -> RowFactory.create(f.key(), f.label() < 0 ? null : f.label(), split,
                            boxed(normalize ? l2(f.feature()) : f.feature())));
            rows = rows == null ? r : rows.union(r);
        }
        Dataset<Row> df = spark.createDataFrame(rows, schema);
        df.write().parquet(staging.toString());
        Dataset<Row> written = spark.read().parquet(staging.toString());
        long images = written.count();
        int dim = images == 0 ? 0 : written.select("embedding").first().getList(0).size();
        fs.delete(target, true);
        if (!fs.rename(staging, target)) {
            throw new IOException("could not move " + staging + " to " + target);
        }
        double sec = (System.nanoTime() - start) / 1e9;
        out.accept(String.format(Locale.ROOT, "[embed] %d images of %s (%s) -> %s: %d floats each (%s%s), %.1f s,"
                + " %.1f images/s", images, cfg.dataPath(), String.join(", ", chosen), target, dim,
                pool.name().toLowerCase(Locale.ROOT).replace('_', '-'), normalize ? ", L2-normalised" : "", sec,
                images / sec));
        return new Result(target, images, dim, sec);
    }

    /** {@code f} scaled to unit length (a zero vector stays zero). */
    static float[] l2(float[] f) {
        double s = 0;
        for (float x : f) {
            s += (double) x * x;
        }
        float inv = s == 0 ? 0 : (float) (1 / Math.sqrt(s));
        float[] o = new float[f.length];
        for (int i = 0; i < f.length; i++) {
            o[i] = f[i] * inv;
        }
        return o;
    }

    private static Float[] boxed(float[] f) {
        Float[] o = new Float[f.length];
        for (int i = 0; i < f.length; i++) {
            o[i] = f[i];
        }
        return o;
    }
}
