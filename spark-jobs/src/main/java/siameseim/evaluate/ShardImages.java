package siameseim.evaluate;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.ShardInfo;
import siameseim.datasets.shards.ShardReader;
import siameseim.spark.SparkSessions;

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
        String rootUri = root.getFileSystem(conf).makeQualified(root).toString();
        List<String> paths = shards.stream().map(ShardInfo::path).toList();
        List<long[]> work = new ArrayList<>(); // {shard, its rows}
        for (int s = 0; s < shards.size(); s++) {
            work.add(new long[] {s, shards.get(s).rows()});
        }
        Map<String, String> hadoop = SparkSessions.hadoopConf(spark);
        FeatureExtraction.RowFilter wanted = keep != null ? keep : (s, r) -> true;
        JavaRDD<Row> rows = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(work, Math.max(1, work.size())).mapPartitions((Iterator<long[]> it) -> {
                    Configuration hc = SparkSessions.rebuild(hadoop);
                    List<Row> out = new ArrayList<>();
                    while (it.hasNext()) {
                        long[] w = it.next();
                        int s = (int) w[0];
                        ShardReader.scan(hc, new Path(rootUri, paths.get(s)), r -> r < w[1] && wanted.keep(s, r),
                                (r, rec) -> {
                                    out.add(RowFactory.create(rec.key(), rec.label(), rec.image()));
                                    return r + 1 < w[1];
                                });
                    }
                    return out.iterator();
                });
        return spark.createDataFrame(rows, SCHEMA);
    }
}
