package siameseim.prepare;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.metadata.ParquetMetadata;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.hadoop.util.HadoopOutputFile;

/**
 * Copies Spark-written Parquet files, row groups untouched, adding the {@code huggingface}
 * key-value metadata to each footer as the Hub's files carry it (Spark's writer has no option
 * for footer metadata; {@code datasets} writes it through Arrow's schema metadata).
 */
final class HubMetadata {
    private HubMetadata() {}

    static void copyWith(Configuration conf, Path from, Path to, String huggingface) throws IOException {
        FileSystem fs = from.getFileSystem(conf);
        for (FileStatus st : fs.listStatus(from)) {
            if (!st.getPath().getName().endsWith(".parquet")) {
                continue;
            }
            HadoopInputFile in = HadoopInputFile.fromPath(st.getPath(), conf);
            ParquetMetadata footer;
            try (ParquetFileReader r = ParquetFileReader.open(in)) {
                footer = r.getFooter();
            }
            Map<String, String> meta = new HashMap<>(footer.getFileMetaData().getKeyValueMetaData());
            meta.put("huggingface", huggingface);
            ParquetFileWriter w = new ParquetFileWriter(HadoopOutputFile.fromPath(new Path(to, st.getPath().getName()),
                    conf), footer.getFileMetaData().getSchema(), ParquetFileWriter.Mode.CREATE, 1 << 20, 0);
            w.start();
            w.appendFile(in);
            w.end(meta);
        }
    }
}
