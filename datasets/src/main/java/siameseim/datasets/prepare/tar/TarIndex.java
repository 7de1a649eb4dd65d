package siameseim.datasets.prepare.tar;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarFile;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The regular files of a tar on any Hadoop file system, found by their headers alone: Commons
 * Compress's {@code TarFile} reads each 512-byte header (and PAX or GNU long-name records) and
 * seeks past the member's data, so indexing ImageNet's 138 GB training tar reads about 1 000
 * headers. Each entry says where its data starts, so a task reads one member as a byte range.
 */
public final class TarIndex {
    private TarIndex() {}

    /** A member: its name in the archive, where its data starts, its size. */
    public record Entry(String name, long offset, long size) implements Serializable {}

    /** What an index found, and the reads (and bytes) it took. */
    public record Listing(long archiveBytes, List<Entry> entries, long reads, long bytesRead) {}

    /**
     * The regular files of {@code tar} in archive order (AppleDouble side files left out).
     *
     * @throws IOException naming the file when it is no tar or is cut short (a member's data runs past its end)
     */
    public static Listing list(Configuration conf, Path tar) throws IOException {
        FileSystem fs = tar.getFileSystem(conf);
        FileStatus st = fs.getFileStatus(tar);
        List<Entry> out = new ArrayList<>();
        HadoopChannel channel = new HadoopChannel(fs.open(tar), st.getLen());
        try (TarFile file = new TarFile(channel)) {
            long end = 0; // where the record after the last member's padded data begins
            for (TarArchiveEntry e : file.getEntries()) {
                end = Math.max(end, e.getDataOffset() + (e.getSize() + TarMembers.RECORD - 1) / TarMembers.RECORD
                        * TarMembers.RECORD);
                if (e.isFile() && !TarMembers.skipped(e.getName())) {
                    if (e.getDataOffset() + e.getSize() > st.getLen()) {
                        throw new IOException(tar + " is cut short: member " + e.getName() + " needs bytes up to "
                                + (e.getDataOffset() + e.getSize()) + " of a file of " + st.getLen()
                                + " (an incomplete download?)");
                    }
                    out.add(new Entry(e.getName(), e.getDataOffset(), e.getSize()));
                }
            }
            // TarFile takes a header or data past the end of the file for the end of the archive; a
            // whole archive has its end-of-archive (zero) record there
            if (!endOfArchive(channel, end)) {
                throw new IOException(tar + " is cut short: no end-of-archive record after its last whole member ("
                        + (out.isEmpty() ? "none" : out.get(out.size() - 1).name()) + ", byte " + end + " of "
                        + st.getLen() + "; an incomplete download?)");
            }
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(tar.toString())) {
                throw e;
            }
            throw new IOException(tar + " cannot be indexed as a tar (cut short or not a tar): " + e.getMessage(), e);
        }
        return new Listing(st.getLen(), out, channel.reads(), channel.bytesRead());
    }

    private static boolean endOfArchive(HadoopChannel channel, long at) throws IOException {
        if (at + TarMembers.RECORD > channel.size()) {
            return false;
        }
        java.nio.ByteBuffer record = java.nio.ByteBuffer.allocate(TarMembers.RECORD);
        channel.position(at);
        channel.read(record);
        for (byte b : record.array()) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }
}
