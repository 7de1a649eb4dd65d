package siameseim.collective;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;

/**
 * The collective operations of one rank over a {@link Transport}: all-reduce (ring for large
 * buffers, direct exchange for small ones, where latency matters more than bandwidth),
 * broadcast, all-gather of small values, barrier. Every rank must call the same operations in
 * the same order. Results are bit-identical on all ranks.
 */
public final class Collective implements AutoCloseable {
    /** Buffers up to this many bytes use the direct (one round-trip) algorithm. */
    public static final int SMALL_BYTES = 256 << 10;

    private final Transport transport;
    private int op;
    /** Large all-reduces through /dev/shm when every rank is on this host (SharedMemory). */
    private boolean sharedMemory = !"false".equals(System.getProperty("siameseim.collective.shm"));
    private boolean sharedMemoryTried;
    private SharedMemory shm;
    private java.nio.file.Path sharedMemoryDir = SharedMemory.DIR;

    public Collective(Transport transport) {
        this.transport = transport;
    }

    public int rank() {
        return transport.rank();
    }

    public int size() {
        return transport.size();
    }

    public Transport transport() {
        return transport;
    }

    /** How many collective operations this rank has run (the same count on every rank). */
    public int operations() {
        return op;
    }

    /** Replaces {@code data} (native-order floats, position..limit) with its sum over ranks. */
    public void allReduceSum(ByteBuffer data) {
        int id = ++op;
        if (size() == 1) {
            return;
        }
        if (data.remaining() <= SMALL_BYTES) {
            directSum(id, data);
            return;
        }
        if (!sharedMemoryTried) {
            sharedMemoryTried = true; // every rank reaches this at the same call and votes
            shm = SharedMemory.open(this, data.remaining(), transport.log(), sharedMemory, sharedMemoryDir);
        }
        if (shm != null && !shm.sum(data)) {
            shm = null; // could not grow the regions: TCP from now on
        }
        if (shm == null) {
            RingAllReduce.sum(transport, id, data);
        }
    }

    /**
     * Whether large all-reduces may go through shared memory when all ranks share a host (on by
     * default; the system property siameseim.collective.shm=false turns it off). A rank that
     * turns it off makes every rank use TCP; set it before the first large all-reduce.
     */
    public void setSharedMemory(boolean enabled) {
        sharedMemory = enabled;
    }

    /** Tests: where this rank creates and looks for the regions (default /dev/shm). */
    void setSharedMemoryDir(java.nio.file.Path dir) {
        sharedMemoryDir = dir;
    }

    /** True once large all-reduces go through shared memory. */
    public boolean usesSharedMemory() {
        return shm != null;
    }

    /** The mean over ranks. */
    public void allReduceMean(ByteBuffer data) {
        allReduceSum(data);
        if (size() > 1) {
            FloatBuffer f = data.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
            float inv = 1f / size();
            for (int i = 0; i < f.limit(); i++) {
                f.put(i, f.get(i) * inv);
            }
        }
    }

    /** The element-wise mean over ranks of a small array. */
    public float[] allReduceMean(float[] values) {
        ByteBuffer b = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.nativeOrder());
        b.asFloatBuffer().put(values);
        allReduceMean(b);
        float[] out = new float[values.length];
        b.asFloatBuffer().get(out);
        return out;
    }

    /** Messages up to this size are written inline: they fit the smallest socket send buffer. */
    static final int INLINE_BYTES = 8 << 10;

    /** Every rank's float array (all of the same length), indexed by rank. */
    public float[][] allGather(float[] values) {
        int id = ++op;
        int n = size();
        float[][] out = new float[n][];
        out[rank()] = values.clone();
        if (n == 1) {
            return out;
        }
        ByteBuffer mine = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.nativeOrder());
        mine.asFloatBuffer().put(values);
        List<Future<?>> sends = sendToAll(id, mine);
        ByteBuffer scratch = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.nativeOrder());
        for (int p = 0; p < n; p++) {
            if (p != rank()) {
                scratch.clear();
                transport.receive(p, id, 0, scratch);
                scratch.flip();
                out[p] = new float[values.length];
                scratch.asFloatBuffer().get(out[p]);
            }
        }
        RingAllReduce.await(sends);
        return out;
    }

    /**
     * Sends {@code data} to every other rank: inline (this thread) when it is small enough to fit
     * the socket buffers, which saves a thread hand-off on the many tiny exchanges of a training
     * step; otherwise on the transport's sender thread, so receives can proceed meanwhile.
     */
    private List<Future<?>> sendToAll(int id, ByteBuffer data) {
        List<Future<?>> sends = new ArrayList<>();
        for (int p = 0; p < size(); p++) {
            if (p == rank()) {
                continue;
            }
            if (data.remaining() <= INLINE_BYTES) {
                transport.send(p, id, 0, data.duplicate());
            } else {
                sends.add(transport.sendAsync(p, id, 0, data.duplicate()));
            }
        }
        return sends;
    }

    /** Every rank's value, indexed by rank. */
    public long[] allGather(long value) {
        int id = ++op;
        int n = size();
        long[] out = new long[n];
        out[rank()] = value;
        if (n == 1) {
            return out;
        }
        List<Future<?>> sends = sendToAll(id, ByteBuffer.allocate(8).putLong(0, value));
        for (int p = 0; p < n; p++) {
            if (p != rank()) {
                ByteBuffer b = ByteBuffer.allocate(8);
                transport.receive(p, id, 0, b);
                out[p] = b.flip().getLong();
            }
        }
        RingAllReduce.await(sends);
        return out;
    }

    /** Waits until every rank has reached this call. */
    public void barrier() {
        allGather(0);
    }

    /** Copies {@code root}'s buffer to every rank. */
    public void broadcast(ByteBuffer data, int root) {
        int id = ++op;
        if (size() == 1) {
            return;
        }
        if (rank() == root) {
            List<Future<?>> sends = new ArrayList<>();
            for (int p = 0; p < size(); p++) {
                if (p != root) {
                    sends.add(transport.sendAsync(p, id, 0, data.duplicate()));
                }
            }
            RingAllReduce.await(sends);
        } else {
            transport.receive(root, id, 0, data.duplicate());
        }
    }

    /** Everyone sends everything to everyone, then each rank sums all buffers in rank order. */
    private void directSum(int id, ByteBuffer data) {
        int n = size();
        int me = rank();
        int floats = data.remaining() / 4;
        List<Future<?>> sends = sendToAll(id, data);
        float[][] parts = new float[n][];
        FloatBuffer mine = data.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
        parts[me] = new float[floats];
        mine.get(parts[me]);
        ByteBuffer scratch = ByteBuffer.allocateDirect(data.remaining()).order(ByteOrder.nativeOrder());
        for (int p = 0; p < n; p++) {
            if (p != me) {
                scratch.clear();
                transport.receive(p, id, 0, scratch);
                scratch.flip();
                parts[p] = new float[floats];
                scratch.asFloatBuffer().get(parts[p]);
            }
        }
        RingAllReduce.await(sends);
        data.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer().put(sumInRankOrder(parts, 0, floats));
    }

    /**
     * The element-wise sum of {@code parts[r][from .. from + length)} over the ranks, added in rank
     * order: the direct all-reduce's arithmetic, for values gathered by another exchange that must
     * have the same bits.
     */
    public static float[] sumInRankOrder(float[][] parts, int from, int length) {
        float[] sum = java.util.Arrays.copyOfRange(parts[0], from, from + length);
        for (int p = 1; p < parts.length; p++) {
            float[] q = parts[p];
            for (int i = 0; i < length; i++) {
                sum[i] += q[from + i];
            }
        }
        return sum;
    }

    @Override
    public void close() {
        if (shm != null) {
            shm.close();
        }
        transport.close();
    }
}
