package siameseim.datasets.prepare.tar;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.BiFunction;
import org.apache.commons.io.input.BoundedInputStream;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import siameseim.datasets.decode.BadImageException;
import siameseim.datasets.prepare.InputImage;

/**
 * A task's tars (WebDataset shards, class tars inside ImageNet's training tar) read one after
 * the other, each opened when the previous one is done and closed at its end, as one stream of
 * input images. A tar that cannot be opened becomes one {@code UNREADABLE} report.
 */
public final class TarUnits<T> implements Iterator<InputImage> {
    /** How to name, locate and read one unit. */
    public interface Reader<T> {
        /** The unit's split and name in reports. */
        String split(T unit);

        String name(T unit);

        /** Opens the unit's bytes. */
        InputStream open(T unit) throws IOException;

        /** The images of one opened unit (its tar read from {@code in}). */
        Iterator<InputImage> images(T unit, InputStream in);
    }

    private final Iterator<T> units;
    private final Reader<T> reader;
    private InputStream open;
    private Iterator<InputImage> current;
    private InputImage failed;

    public TarUnits(List<T> units, Reader<T> reader) {
        this.units = units.iterator();
        this.reader = reader;
    }

    @Override
    public boolean hasNext() {
        while (failed == null && (current == null || !current.hasNext())) {
            close();
            if (!units.hasNext()) {
                return false;
            }
            T u = units.next();
            try {
                open = reader.open(u);
                current = reader.images(u, open);
            } catch (IOException e) {
                failed = InputImage.bad(reader.split(u), reader.name(u), BadImageException.Reason.UNREADABLE.name(),
                        "cannot open: " + e.getMessage());
            }
        }
        return true;
    }

    @Override
    public InputImage next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        if (failed != null) {
            InputImage f = failed;
            failed = null;
            return f;
        }
        return current.next();
    }

    private void close() {
        current = null;
        if (open != null) {
            try {
                open.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            open = null;
        }
    }

    /**
     * Bytes [start, start + length) of a file of {@code fileLength} bytes, opened for one sequential
     * read of that range: the hints let S3A ask for just that range, and skip a HEAD request.
     */
    public static InputStream range(FileSystem fs, Path file, long fileLength, long start, long length)
            throws IOException {
        FSDataInputStream in;
        try {
            in = fs.openFile(file).opt("fs.option.openfile.read.policy", "sequential")
                    .optLong("fs.option.openfile.length", fileLength)
                    .optLong("fs.option.openfile.split.start", start)
                    .optLong("fs.option.openfile.split.end", start + length).build().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while opening " + file);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
        if (start > 0) {
            in.seek(start);
        }
        return BoundedInputStream.builder().setInputStream(in).setMaxCount(length).setPropagateClose(true).get();
    }

    /** A reader that maps the images of each opened tar with {@code images}. */
    public static <T> Reader<T> reader(java.util.function.Function<T, String> split,
            java.util.function.Function<T, String> name, IoFunction<T, InputStream> open,
            BiFunction<T, InputStream, Iterator<InputImage>> images) {
        return new Reader<>() {
            @Override
            public String split(T unit) {
                return split.apply(unit);
            }

            @Override
            public String name(T unit) {
                return name.apply(unit);
            }

            @Override
            public InputStream open(T unit) throws IOException {
                return open.apply(unit);
            }

            @Override
            public Iterator<InputImage> images(T unit, InputStream in) {
                return images.apply(unit, in);
            }
        };
    }

    /** A function that may fail with an IOException. */
    public interface IoFunction<A, B> {
        B apply(A a) throws IOException;
    }
}
