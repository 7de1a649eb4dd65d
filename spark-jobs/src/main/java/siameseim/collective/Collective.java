package siameseim.collective;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * The collective operations of one rank over a {@link Link}: all-reduce (the algorithm chosen by
 * {@link AllReducePolicy}: {@link DirectExchange} for small buffers, {@link SharedMemoryAllReduce}
 * or {@link RingAllReduce} for large ones), broadcast, all-gather of small values, barrier. Every
 * rank must call the same operations in the same order. Results are bit-identical on all ranks.
 * The group starts on the link it is given; when every rank shares this host the first operation
 * moves it to a {@link SharedMemoryLink} (the TCP sockets stay as the liveness signal).
 */
public final class Collective implements AutoCloseable {
    /** Buffers up to this many bytes use the direct (one round-trip) algorithm. */
    public static final int SMALL_BYTES = AllReducePolicy.SMALL_BYTES;

    private Link link;
    private boolean linkChosen;
    private RingAllReduce ring;
    private int op;
    /** Operations of the link vote, which {@link #operations} leaves out. */
    private int voteOps;
    /** Large all-reduces through /dev/shm when every rank is on this host (SharedRegions). */
    private boolean sharedMemory = !"false".equals(System.getProperty("siameseim.collective.shm"));
    private boolean sharedMemoryTried;
    private SharedMemoryAllReduce shm;
    private java.nio.file.Path sharedMemoryDir = SharedRegions.DIR;

    public Collective(Link link) {
        this.link = link;
    }

    public int rank() {
        return link.rank();
    }

    public int size() {
        return link.size();
    }

    /** The link the operations use now: the one given, or shared memory once the first operation chose it. */
    public Link link() {
        return link;
    }

    /**
     * The id of the next operation; before the first, every rank votes on moving the group's
     * traffic from TCP to a {@link SharedMemoryLink} (all ranks on this host, shared memory on).
     */
    private int begin() {
        if (!linkChosen) {
            linkChosen = true; // the vote's own operations come back here
            if (size() > 1 && link instanceof TcpLink tcp) {
                int before = op;
                SharedRegions rings = SharedRegions.open(this, SharedMemoryLink.regionBytes(size()), link.log(),
                        sharedMemory, sharedMemoryDir);
                if (rings != null) {
                    link = SharedMemoryLink.over(tcp, rings);
                }
                voteOps = op - before;
            }
        }
        return ++op;
    }

    private RingAllReduce ring() {
        if (ring == null) {
            ring = new RingAllReduce(link);
        }
        return ring;
    }

    /** How many collective operations this rank has been asked for (the same count on every rank). */
    public int operations() {
        return op - voteOps;
    }

    /** Replaces {@code data} (native-order floats, position..limit) with its sum over ranks. */
    public void allReduceSum(ByteBuffer data) {
        int id = begin();
        switch (AllReducePolicy.choose(size(), data.remaining(), () -> sharedMemoryFor(data.remaining()))) {
            case NONE -> { }
            case DIRECT -> DirectExchange.sum(link, id, data);
            case SHARED_MEMORY -> {
                if (!shm.sum(data)) {
                    shm = null; // could not grow the regions: TCP from now on
                    ring().sum(id, data);
                }
            }
            case RING -> ring().sum(id, data);
        }
    }

    /**
     * Whether a large all-reduce goes through shared memory: only when the link is, and the first
     * one has every rank vote on regions for the data.
     */
    private boolean sharedMemoryFor(long bytes) {
        if (!sharedMemoryTried && link instanceof SharedMemoryLink) {
            sharedMemoryTried = true; // every rank reaches this at the same call and votes
            SharedRegions regions = SharedRegions.open(this, bytes, link.log(), sharedMemory, sharedMemoryDir);
            shm = regions == null ? null : new SharedMemoryAllReduce(this, regions);
        }
        return shm != null;
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

    /** Every rank's float array (all of the same length), indexed by rank. */
    public float[][] allGather(float[] values) {
        int id = begin();
        return size() == 1 ? new float[][] {values.clone()} : DirectExchange.allGather(link, id, values);
    }

    /** Every rank's value, indexed by rank. */
    public long[] allGather(long value) {
        int id = begin();
        return size() == 1 ? new long[] {value} : DirectExchange.allGather(link, id, value);
    }

    /** Waits until every rank has reached this call. */
    public void barrier() {
        allGather(0);
    }

    /** Copies {@code root}'s buffer to every rank. */
    public void broadcast(ByteBuffer data, int root) {
        int id = begin();
        if (size() > 1) {
            DirectExchange.broadcast(link, id, data, root);
        }
    }

    @Override
    public void close() {
        if (shm != null) {
            shm.close();
        }
        link.close();
    }
}
