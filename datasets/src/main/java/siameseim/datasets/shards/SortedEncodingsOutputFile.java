package siameseim.datasets.shards;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.apache.parquet.format.ColumnChunk;
import org.apache.parquet.format.Encoding;
import org.apache.parquet.format.FileMetaData;
import org.apache.parquet.format.RowGroup;
import org.apache.parquet.format.Util;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.PositionOutputStream;

/**
 * A Parquet output file whose footer lists each column chunk's encodings in sorted order, so that the same rows
 * give the same bytes in every JVM.
 *
 * <p>Why: parquet-java 1.17 (the version Spark 4.2 ships and runs our executors with) collects a column chunk's
 * encodings in a {@code HashSet<Encoding>} ({@code ParquetFileWriter.currentEncodings}), and
 * {@code ParquetMetadataConverter.toFormatEncodings} writes them in the set's iteration order. {@code Encoding} is
 * an enum, whose hash code is its identity hash code, which differs from one JVM process to the next: our v1 pages
 * give every chunk {PLAIN, BIT_PACKED} (the levels of required columns), listed in either order, so two runs differed
 * in two footer bytes per column chunk (14 per row group of our 7 columns). parquet-java 1.18.0 sorts the list
 * (apache/parquet-java GH-3215); until Spark ships it, this file does the same, and afterwards it changes nothing.
 *
 * <p>How: the writer calls {@link #holdRest()} once the last row has been written (from
 * {@code WriteSupport.finalizeWrite}, which parquet calls before it writes the metadata); the bytes written from
 * then on (column and offset indexes, footer, footer length, magic) are held in memory. On close the footer is
 * read as Thrift {@code FileMetaData}, each chunk's encodings sorted by the Thrift enum's order (as 1.18 does) and
 * the footer written again. Only the order of elements within lists changes, so the footer keeps its length and
 * every offset stays valid; a footer that would not is an error rather than a file with wrong offsets.
 */
final class SortedEncodingsOutputFile implements OutputFile {
    private static final byte[] MAGIC = "PAR1".getBytes(StandardCharsets.US_ASCII);

    private final OutputFile file;
    private TailHoldingStream stream;

    SortedEncodingsOutputFile(OutputFile file) {
        this.file = file;
    }

    /** From now on the writer writes metadata only: hold it until close. */
    void holdRest() {
        stream.hold();
    }

    @Override
    public PositionOutputStream create(long blockSizeHint) throws IOException {
        stream = new TailHoldingStream(file.create(blockSizeHint));
        return stream;
    }

    @Override
    public PositionOutputStream createOrOverwrite(long blockSizeHint) throws IOException {
        stream = new TailHoldingStream(file.createOrOverwrite(blockSizeHint));
        return stream;
    }

    @Override
    public boolean supportsBlockSize() {
        return file.supportsBlockSize();
    }

    @Override
    public long defaultBlockSize() {
        return file.defaultBlockSize();
    }

    @Override
    public String getPath() {
        return file.getPath();
    }

    /**
     * The file's tail (metadata, footer, footer length, magic) with the footer's encoding lists sorted; the tail
     * as it is when it does not end in a footer (a writer that failed half-way).
     */
    static byte[] sortFooterEncodings(byte[] tail) throws IOException {
        int n = tail.length;
        if (n < 8 || !Arrays.equals(tail, n - 4, n, MAGIC, 0, 4)) {
            return tail;
        }
        int length = ByteBuffer.wrap(tail, n - 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        int start = n - 8 - length;
        if (length < 0 || start < 0) {
            throw new IOException("Parquet footer of " + length + " bytes does not fit in the " + n
                    + " bytes written after the last row");
        }
        FileMetaData footer = Util.readFileMetaData(new ByteArrayInputStream(tail, start, length));
        for (RowGroup group : footer.getRow_groups()) {
            for (ColumnChunk chunk : group.getColumns()) {
                if (chunk.isSetMeta_data()) {
                    List<Encoding> encodings = new ArrayList<>(chunk.getMeta_data().getEncodings());
                    Collections.sort(encodings);
                    chunk.getMeta_data().setEncodings(encodings);
                }
            }
        }
        ByteArrayOutputStream sorted = new ByteArrayOutputStream(length);
        Util.writeFileMetaData(footer, sorted);
        if (sorted.size() != length) {
            throw new IOException("Parquet footer with sorted encodings has " + sorted.size() + " bytes instead of "
                    + length);
        }
        byte[] out = tail.clone();
        System.arraycopy(sorted.toByteArray(), 0, out, start, length);
        return out;
    }

    /** Passes bytes through until {@link #hold()}, then keeps them until close. */
    private static final class TailHoldingStream extends PositionOutputStream {
        private final PositionOutputStream out;
        private ByteArrayOutputStream held;
        private boolean closed;

        TailHoldingStream(PositionOutputStream out) {
            this.out = out;
        }

        void hold() {
            if (held == null) {
                held = new ByteArrayOutputStream();
            }
        }

        @Override
        public long getPos() throws IOException {
            return out.getPos() + (held == null ? 0 : held.size());
        }

        @Override
        public void write(int b) throws IOException {
            if (held != null) {
                held.write(b);
            } else {
                out.write(b);
            }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (held != null) {
                held.write(b, off, len);
            } else {
                out.write(b, off, len);
            }
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            try (PositionOutputStream o = out) {
                if (held != null) {
                    o.write(sortFooterEncodings(held.toByteArray()));
                }
            }
        }
    }
}
