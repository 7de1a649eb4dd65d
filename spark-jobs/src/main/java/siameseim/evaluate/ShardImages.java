package siameseim.evaluate;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.ShardInfo;
import siameseim.datasets.shards.ShardReader;

/**
 * The encoded images of a prepared split as a DataFrame ({@code key}, {@code label},
 * {@code image}: the stored bytes), for {@code siameseim.ml.ImageEmbedder}: one partition per
 * shard, rows in dataset order, selected by a predicate on (shard, row) as in
 * {@link FeatureExtraction}, so that the embedder batches exactly the rows that feature
 * extraction batches.
 */
public final class ShardImages {
    private ShardImages() {}

    public static final StructType SCHEMA = new StructType().add("key", DataTypes.StringType, false)
            .add("label", DataTypes.IntegerType, false).add("image", DataTypes.BinaryType, false);

    /** The rows of {@code split} that {@code keep} accepts (all of them when it is null). */
    public static Dataset<Row> of(SparkSession spark, Path root, String split, FeatureExtraction.RowFilter keep)
            throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        List<ShardInfo> shards = Manifest.read(conf, root).split(split).shards();
        FeatureExtraction.RowFilter wanted = keep != null ? keep : (s, r) -> true;
        JavaRDD<Row> rows = FeatureExtraction.perShard(spark, root, shards, (hc, shard, index, take) -> {
            List<Row> out = new ArrayList<>();
            ShardReader.scan(hc, shard, r -> r < take && wanted.keep(index, r), (r, rec) -> {
                out.add(RowFactory.create(rec.key(), rec.label(), rec.image()));
                return r + 1 < take;
            });
            return out;
        });
        return spark.createDataFrame(rows, SCHEMA);
    }
}
