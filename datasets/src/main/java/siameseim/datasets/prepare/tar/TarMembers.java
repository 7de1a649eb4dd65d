package siameseim.datasets.prepare.tar;

import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * The regular files of a tar stream, one at a time in archive order, read with Commons Compress
 * (which reads what GNU tar, BSD tar and Python's tarfile write: ustar, GNU long names, PAX
 * extended and global headers). Directories, links and other non-files are passed over, and so
 * are macOS's AppleDouble side files ({@code ._name}, written by BSD tar for extended attributes)
 * and anything under {@code __MACOSX/}.
 *
 * <p>A tar that ends early is reported ({@link #cutShort()}) rather than taken for a shorter
 * archive: Commons Compress throws inside a member's data, but a stream that stops exactly at (or
 * inside) a header looks to it like the end of the archive. A complete archive ends with a zero
 * record, so the stream must reach at least one record past the last member's padded data.
 */
public final class TarMembers {
    /** Tar records are 512 bytes; a member's data is padded to a whole number of them. */
    static final int RECORD = 512;

    /** Members larger than this are not read (a Java array holds at most 2 GiB; no image is that large). */
    static final long MAX_MEMBER = Integer.MAX_VALUE - 64;

    /**
     * A regular file of the archive: its full path inside it, its size and its content (null when
     * larger than {@link #MAX_MEMBER}).
     */
    public record Member(String name, long size, byte[] bytes) {}

    private final TarArchiveInputStream tar;
    private int files;
    private long expected; // where the record after the last member's padded data begins
    private String last;
    private String cutShort;
    private boolean done;

    /** Reads {@code in} (closed by the caller). */
    public TarMembers(InputStream in) {
        this.tar = new TarArchiveInputStream(in);
    }

    /** The next regular file, or null at the end of the archive (or where it is cut short). */
    public Member next() {
        if (done) {
            return null;
        }
        try {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                expected = tar.getBytesRead() + (e.getSize() + RECORD - 1) / RECORD * RECORD;
                last = e.getName();
                if (!e.isFile() || skipped(e.getName())) {
                    continue;
                }
                byte[] bytes = e.getSize() > MAX_MEMBER ? null
                        : tar.readNBytes((int) e.getSize());
                if (bytes != null && bytes.length < e.getSize()) {
                    return end(cut("the data of " + last + " ends after " + bytes.length + " of " + e.getSize()
                            + " bytes"));
                }
                files++;
                return new Member(e.getName(), e.getSize(), bytes);
            }
        } catch (IOException ex) {
            // Commons Compress: "Truncated TAR archive" inside a member's data, or a header it cannot parse
            return end(cut(ex.getMessage()));
        }
        if (tar.getBytesRead() < expected + RECORD) {
            return end(cut("the archive ends at byte " + tar.getBytesRead() + " without its end-of-archive record"));
        }
        return end(null);
    }

    /** After {@link #next()} returned null: why the archive is incomplete or unreadable, or null when it is whole. */
    public String cutShort() {
        return cutShort;
    }

    /** The regular files handed out so far. */
    public int files() {
        return files;
    }

    private Member end(String why) {
        done = true;
        cutShort = why;
        return null;
    }

    private String cut(String why) {
        return String.format(Locale.ROOT, "cut short %s: %s", files == 0 && last == null ? "before any member"
                : "after " + files + " files (last header: " + last + ")", why);
    }

    /** Members that are no data: AppleDouble side files and macOS resource folders. */
    public static boolean skipped(String name) {
        int slash = name.lastIndexOf('/');
        return name.substring(slash + 1).startsWith("._") || name.startsWith("__MACOSX/")
                || name.contains("/__MACOSX/");
    }
}
