package siameseim.datasets.shards;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.CRC32C;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.io.OutputFile;

/**
 * Writes image rows into Parquet shards named {@code <prefix>-000.parquet}, {@code -001}, ...,
 * starting a new shard when the next row would pass the target size. Images are stored
 * uncompressed (JPEG does not compress further) in row groups of at most 16 MiB, so a reader
 * holds at most one row group per shard in memory. The same rows give the same bytes in every JVM
 * ({@link SortedEncodingsOutputFile} says why that needs more than parquet-java 1.17's writer).
 */
public final class ShardWriter implements Closeable {
    static final int ROW_GROUP_BYTES = 16 << 20;

    private final Configuration conf;
    private final Path root;
    private final String relativeDir;
    private final String prefix;
    private final long targetBytes;
    private final List<ShardInfo> written = new ArrayList<>();
    private ParquetWriter<ImageRecord> current;
    private String currentName;
    private long currentRows;
    private long currentBytes;
    private int seq;

    /**
     * @param root dataset root; shards go to {@code root/relativeDir}
     * @param prefix shard name prefix, e.g. "part-00003"
     */
    public ShardWriter(Configuration conf, Path root, String relativeDir, String prefix, long targetBytes) {
        this.conf = conf;
        this.root = root;
        this.relativeDir = relativeDir;
        this.prefix = prefix;
        this.targetBytes = targetBytes;
    }

    public void write(ImageRecord r) throws IOException {
        long size = r.image().length + r.key().length() + r.wnid().length() + 32L;
        if (current != null && currentRows > 0 && currentBytes + size > targetBytes) {
            finish();
        }
        if (current == null) {
            open();
        }
        current.write(r);
        currentRows++;
        currentBytes += size;
    }

    private void open() throws IOException {
        currentName = relativeDir + "/" + prefix + String.format(Locale.ROOT, "-%03d.parquet", seq++);
        OutputFile file = HadoopOutputFile.fromPath(new Path(root, currentName), conf);
        current = ImageRecordWriteSupport.builder(new SortedEncodingsOutputFile(file))
                .withConf(conf)
                .withCompressionCodec(CompressionCodecName.UNCOMPRESSED)
                .withRowGroupSize((long) ROW_GROUP_BYTES)
                .withPageSize(1 << 20)
                .withDictionaryEncoding(false)
                .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
                .build();
        currentRows = 0;
        currentBytes = 0;
    }

    private void finish() throws IOException {
        current.close();
        current = null;
        Path p = new Path(root, currentName);
        FileSystem fs = p.getFileSystem(conf);
        written.add(new ShardInfo(currentName, currentRows, fs.getFileStatus(p).getLen(), crc32c(fs, p)));
    }

    /** CRC32C of a file's bytes (read back after writing). */
    public static String crc32c(FileSystem fs, Path p) throws IOException {
        CRC32C crc = new CRC32C();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = fs.open(p)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                crc.update(buf, 0, n);
            }
        }
        return String.format("%08x", crc.getValue());
    }

    /** The shards written so far, in order (complete after {@link #close()}). */
    public List<ShardInfo> shards() {
        return written;
    }

    @Override
    public void close() throws IOException {
        if (current != null) {
            finish();
        }
    }
}
