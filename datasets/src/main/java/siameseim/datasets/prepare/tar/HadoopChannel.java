package siameseim.datasets.prepare.tar;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;
import org.apache.hadoop.fs.FSDataInputStream;

/**
 * A read-only {@link SeekableByteChannel} over a Hadoop stream, so that Commons Compress's
 * {@code TarFile} walks an archive on any Hadoop file system by its headers: it reads a 512-byte
 * header and sets the position past the member's padded data, never reading the data. A
 * position is only remembered; the stream seeks when the next read comes (S3A opens a new ranged
 * request then, HDFS and local files move their offset).
 */
final class HadoopChannel implements SeekableByteChannel {
    private final FSDataInputStream in;
    private final long size;
    private long position;
    private long reads;
    private long bytesRead;

    HadoopChannel(FSDataInputStream in, long size) {
        this.in = in;
        this.size = size;
    }

    /** How many reads reached the file (a measure of the requests an index costs). */
    long reads() {
        return reads;
    }

    long bytesRead() {
        return bytesRead;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (position >= size) {
            return -1;
        }
        int want = (int) Math.min(dst.remaining(), size - position);
        byte[] buf = new byte[want];
        in.readFully(position, buf, 0, want); // positioned read: one request, no stream state
        reads++;
        bytesRead += want;
        dst.put(buf);
        position += want;
        return want;
    }

    @Override
    public long position() {
        return position;
    }

    @Override
    public SeekableByteChannel position(long newPosition) {
        position = newPosition;
        return this;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public int write(ByteBuffer src) {
        throw new NonWritableChannelException();
    }

    @Override
    public SeekableByteChannel truncate(long newSize) {
        throw new NonWritableChannelException();
    }

    @Override
    public boolean isOpen() {
        return true;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
