package siameseim.evaluate;

import static org.apache.spark.ml.functions.vector_to_array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.when;

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
import siameseim.spark.WriteProgress;

/**
 * Embeddings of a prepared dataset's images as a Parquet table: key (the image's path in the
 * source), label (null when the dataset is unlabelled), split, and the embedding (CLS token or
 * mean of the patch tokens, optionally L2-normalised) as an array of floats. Computed by the
 * executors ({@link FeatureExtraction}: the evaluation transform and the frozen encoder, batched,
 * deterministic), written to a staging folder and moved into place at the end, so a failed run
 * leaves no partial table. While it runs the driver prints the images written, images/s and the
 * time left ({@link WriteProgress}).
 */
public final class Embeddings {
    private static final String GROUP = "siameseim-embed";
    /** At most one progress line this often (the first and the last always). */
    private static final double PROGRESS_SECONDS = 5;

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
                            boxed(normalize ? siameseim.eval.FeatureExtractor.unitLength(f.feature()) : f.feature())));
            rows = rows == null ? r : rows.union(r);
        }
        Dataset<Row> df = spark.createDataFrame(rows, schema);
        long total = 0;
        for (String split : chosen) {
            total += m.split(split).shards().stream().mapToLong(siameseim.datasets.shards.ShardInfo::rows).sum();
        }
        write(spark, df, staging, total, out);
        Dataset<Row> written = spark.read().parquet(staging.toString());
        long images = written.count();
        int dim = images == 0 ? 0 : written.select("embedding").first().getList(0).size();
        publish(fs, staging, target);
        double sec = (System.nanoTime() - start) / 1e9;
        out.accept(String.format(Locale.ROOT, "[embed] %d images of %s (%s) -> %s: %d floats each (%s%s), %.1f s,"
                + " %.1f images/s", images, cfg.dataPath(), String.join(", ", chosen), target, dim,
                pool.name().toLowerCase(Locale.ROOT).replace('_', '-'), normalize ? ", L2-normalised" : "", sec,
                images / sec));
        return new Result(target, images, dim, sec);
    }

    /**
     * Embeddings of images that are not a prepared dataset: {@code images} has a column {@code key}
     * (a path or name) and a binary column {@code image} of encoded images (an image folder read
     * with the {@code binaryFile} source, or a table). Computed with {@link siameseim.ml.ImageEmbedder};
     * an image that cannot be decoded gets a null embedding and is counted and named in the report.
     * The architecture is the weights' own (checkpoints and exports carry it), else the config's;
     * batches of eval.batch-size, train.threads threads on a CPU.
     */
    public static Result run(SparkSession spark, Dataset<Row> images, EvalConfig cfg, FeaturePool pool,
            boolean normalize, String output, Consumer<String> out) throws IOException {
        String weights = cfg.weights();
        long start = System.nanoTime();
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Path target = new Path(output);
        FileSystem fs = target.getFileSystem(conf);
        Path staging = new Path(target.getParent(), "." + target.getName() + ".embedding");
        fs.delete(staging, true);
        siameseim.ml.ImageEmbedder embedder = new siameseim.ml.ImageEmbedder().setInputCol("image")
                .setOutputCol("vector").setWeights(weights).setPooling(pool == FeaturePool.CLS ? "cls" : "mean-patch")
                .setNormalize(normalize).setBatchSize(cfg.batchSize()).setThreads(cfg.threads())
                .setDecoder(cfg.decoder()).setMeanStd(cfg.augment().mean(), cfg.augment().std());
        try (siameseim.model.io.WeightsFile w = siameseim.model.io.WeightsFile.open(weights, conf)) {
            if (w.metadata().get("architecture") == null) {
                // timm / Hugging Face files do not name their architecture: the config's model
                embedder.setArchitecture(siameseim.checkpoint.CheckpointFormat.architectureJson(cfg.model()));
            }
        }
        write(spark, embedder.transform(images.select("key", "image"))
                .select(col("key"), when(col("vector").isNotNull(), vector_to_array(col("vector"), "float32"))
                        .as("embedding")), staging, images.count(), out);
        Dataset<Row> written = spark.read().parquet(staging.toString());
        long count = written.count();
        List<String> bad = written.where("embedding IS NULL").select("key").limit(5).collectAsList().stream()
                .map(r -> r.getString(0)).toList();
        long badCount = bad.isEmpty() ? 0 : written.where("embedding IS NULL").count();
        Row first = written.where("embedding IS NOT NULL").select("embedding").limit(1).collectAsList().stream()
                .findFirst().orElse(null);
        int dim = first == null ? 0 : first.getList(0).size();
        publish(fs, staging, target);
        double sec = (System.nanoTime() - start) / 1e9;
        out.accept(String.format(Locale.ROOT, "[embed] %d images -> %s: %d floats each, %.1f s, %.1f images/s; %d could"
                + " not be decoded (null embedding)%s", count, target, dim, sec, count / sec, badCount,
                bad.isEmpty() ? "" : ": " + String.join(", ", bad) + (badCount > bad.size() ? ", ..." : "")));
        return new Result(target, count, dim, sec);
    }

    /** Writes {@code rows} ({@code total} of them) to {@code staging}, with progress lines on the driver. */
    private static void write(SparkSession spark, Dataset<Row> rows, Path staging, long total, Consumer<String> out) {
        org.apache.spark.SparkContext sc = spark.sparkContext();
        sc.setJobGroup(GROUP, "embed: computing and writing the embeddings", false);
        try (WriteProgress progress = new WriteProgress(sc, GROUP, "embed", total, PROGRESS_SECONDS, out)) {
            rows.write().parquet(staging.toString());
        } finally {
            sc.clearJobGroup();
        }
    }

    /** Replaces {@code target} (a previous run's table) with the finished {@code staging} folder. */
    private static void publish(FileSystem fs, Path staging, Path target) throws IOException {
        fs.delete(target, true);
        if (!fs.rename(staging, target)) {
            throw new IOException("could not move " + staging + " to " + target);
        }
    }

    private static Float[] boxed(float[] f) {
        Float[] o = new Float[f.length];
        for (int i = 0; i < f.length; i++) {
            o[i] = f[i];
        }
        return o;
    }
}
