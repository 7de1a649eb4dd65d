package siameseim.datasets.shards;

import java.io.IOException;
import java.util.function.Predicate;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.hadoop.util.HadoopInputFile;

/** Streams the rows of one shard, one row group in memory at a time. */
public final class ShardReader {
    private ShardReader() {}

    /** A row visitor that may stop the scan by returning false. */
    public interface Visitor {
        boolean accept(long row, ImageRecord record) throws IOException;
    }

    /**
     * Visits rows in file order; rows for which {@code wanted} is false are skipped without
     * copying their image bytes.
     */
    public static void scan(Configuration conf, Path shard, Predicate<Long> wanted, Visitor visitor) throws IOException {
        try (ParquetReader<Group> reader = new Builder(HadoopInputFile.fromPath(shard, conf)).withConf(conf).build()) {
            long row = 0;
            Group g;
            while ((g = reader.read()) != null) {
                if (wanted.test(row)) {
                    ImageRecord r = new ImageRecord(g.getString("key", 0), g.getInteger("label", 0),
                            g.getString("wnid", 0), g.getBinary("image", 0).getBytes(), g.getInteger("width", 0),
                            g.getInteger("height", 0), g.getString("source_format", 0));
                    if (!visitor.accept(row, r)) {
                        return;
                    }
                }
                row++;
            }
        }
    }

    /** A row's key and label, read without the image column. */
    public record KeyLabel(long row, String key, int label) {}

    /** Keys and labels of every row, reading only those two columns. */
    public static java.util.List<KeyLabel> keys(Configuration conf, Path shard) throws IOException {
        org.apache.parquet.schema.MessageType projection = new org.apache.parquet.schema.MessageType(
                ShardSchema.SCHEMA.getName(), ShardSchema.SCHEMA.getType("key"), ShardSchema.SCHEMA.getType("label"));
        Configuration c = new Configuration(conf);
        c.set(ReadSupport.PARQUET_READ_SCHEMA, projection.toString());
        java.util.List<KeyLabel> out = new java.util.ArrayList<>();
        try (ParquetReader<Group> reader = new Builder(HadoopInputFile.fromPath(shard, c)).withConf(c).build()) {
            long row = 0;
            Group g;
            while ((g = reader.read()) != null) {
                out.add(new KeyLabel(row++, g.getString("key", 0), g.getInteger("label", 0)));
            }
        }
        return out;
    }

    private static final class Builder extends ParquetReader.Builder<Group> {
        Builder(org.apache.parquet.io.InputFile file) {
            super(file);
        }

        @Override
        protected ReadSupport<Group> getReadSupport() {
            return new GroupReadSupport();
        }
    }
}
