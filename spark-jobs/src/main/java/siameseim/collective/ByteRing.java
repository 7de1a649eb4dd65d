package siameseim.collective;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A single-producer, single-consumer byte queue in memory that two processes map (one direction
 * of a {@link SharedMemoryLink}). Layout: the count of bytes ever written (the producer's) and
 * the count ever read (the consumer's), each on its own cache line, then the data, a power of
 * two long. The producer copies bytes in and then publishes its count with a release store; the
 * consumer loads it with an acquire load before copying out, and publishes its own count the same
 * way, so each side sees the other's data before the count that announces it.
 */
final class ByteRing {
    /** Bytes before the data: two counters, 64 bytes apart. */
    static final int HEADER = 128;
    private static final int WRITTEN = 0;
    private static final int READ = 64;
    private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());

    private final ByteBuffer mem;
    private final int capacity;

    /**
     * @param mem the ring's bytes ({@link #HEADER} + a power of two), 8-byte aligned, zero when
     *     the ring is new; both processes pass the same memory
     */
    ByteRing(ByteBuffer mem) {
        this.mem = mem.slice().order(ByteOrder.nativeOrder());
        this.capacity = this.mem.capacity() - HEADER;
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("ring data of " + capacity + " bytes, not a power of two");
        }
    }

    /** Copies what fits of {@code src} into the ring (producer); the bytes copied. */
    int write(ByteBuffer src) {
        long written = (long) LONGS.getAcquire(mem, WRITTEN);
        long read = (long) LONGS.getAcquire(mem, READ);
        int n = Math.min(capacity - (int) (written - read), src.remaining());
        if (n <= 0) {
            return 0;
        }
        int at = (int) (written & (capacity - 1));
        int first = Math.min(n, capacity - at);
        int p = src.position();
        mem.put(HEADER + at, src, p, first);
        if (n > first) {
            mem.put(HEADER, src, p + first, n - first);
        }
        src.position(p + n);
        LONGS.setRelease(mem, WRITTEN, written + n);
        return n;
    }

    /** Copies what has arrived, up to {@code dst}'s room, out of the ring (consumer); the bytes copied. */
    int read(ByteBuffer dst) {
        long written = (long) LONGS.getAcquire(mem, WRITTEN);
        long read = (long) LONGS.getAcquire(mem, READ);
        int n = Math.min((int) (written - read), dst.remaining());
        if (n <= 0) {
            return 0;
        }
        int at = (int) (read & (capacity - 1));
        int first = Math.min(n, capacity - at);
        int p = dst.position();
        dst.put(p, mem, HEADER + at, first);
        if (n > first) {
            dst.put(p + first, mem, HEADER, n - first);
        }
        dst.position(p + n);
        LONGS.setRelease(mem, READ, read + n);
        return n;
    }

    /** Whether the producer could copy a byte in now. */
    boolean writable() {
        return (long) LONGS.getAcquire(mem, WRITTEN) - (long) LONGS.getAcquire(mem, READ) < capacity;
    }

    /** Whether the consumer could copy a byte out now. */
    boolean readable() {
        return (long) LONGS.getAcquire(mem, WRITTEN) != (long) LONGS.getAcquire(mem, READ);
    }
}
