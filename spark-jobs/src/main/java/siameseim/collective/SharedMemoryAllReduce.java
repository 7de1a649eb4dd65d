package siameseim.collective;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * All-reduce through {@link SharedRegions} when every rank runs on the same host: loopback TCP
 * moves each byte through the kernel twice per direction (docs/distributed.md, "All-reduce
 * benchmark"); here each rank copies its buffer into its own region, sums one segment of all
 * regions in rank order, and copies the other segments back, about three memory copies in all.
 * The collective's link (the {@link SharedMemoryLink}) carries the barriers between the phases.
 * Each segment is summed by one rank, always in rank order, and copied by the others: every rank
 * ends with the same bits.
 *
 * <p>Two barriers per operation, and a third only where the length changes. An operation on F
 * floats cuts them into segments by F and the rank count alone: segment p, floats [F p / N,
 * F (p + 1) / N), is summed by rank p. The invariant: before its first barrier a rank writes its
 * own region only outside its own segment, and after its second barrier (until it begins its next
 * operation) a rank reads another rank's region only inside that rank's segment; everything else
 * happens between the two barriers, where every rank is inside the same operation. So a rank that
 * begins the next operation of the same length while a slower rank still copies this one's sums
 * writes only where nobody reads, and no closing barrier is needed. With another length the
 * segments move, and the fast rank's first writes would land in the segment the slow rank is
 * still copying from (SharedMemoryChangingSizesTest fails without it): an operation whose
 * length differs from the previous one's therefore begins with a barrier, which no rank leaves
 * before every rank has finished the previous operation. Every rank sees the same lengths, so all
 * take it alike. The gradient all-reduce, the same length at every step, pays nothing; lengths
 * that alternate (the gradients and a UniGrad correlation matrix above the direct exchange's
 * 256 KiB) pay one barrier per change. Regions that grow are a new generation, mapped after a
 * vote of every rank.
 */
final class SharedMemoryAllReduce implements AutoCloseable {
    private final Collective c;
    private final SharedRegions regions;
    /** Scratch of the add without the Vector API. */
    private final float[] tmpA = new float[16384];
    private final float[] tmpB = new float[16384];
    /** The previous operation's length in bytes; another length begins with a barrier. */
    private int lastBytes = -1;

    SharedMemoryAllReduce(Collective c, SharedRegions regions) {
        this.c = c;
        this.regions = regions;
    }

    /**
     * Replaces {@code data} (native-order floats, position..limit) with its sum over ranks; false
     * (on every rank, data untouched) when larger regions were needed and a rank could not map
     * them.
     */
    boolean sum(ByteBuffer data) {
        int bytes = data.remaining();
        if (bytes != lastBytes) {
            c.barrier(); // every rank has copied the previous operation's sums (the class comment)
            lastBytes = bytes;
        }
        if (!regions.ensure(bytes)) {
            return false;
        }
        int n = c.size();
        int me = c.rank();
        int floats = bytes / 4;
        int base = data.position();
        ByteBuffer own = regions.region(me);
        int from = (int) ((long) floats * me / n);
        int to = (int) ((long) floats * (me + 1) / n);
        int len = to - from;
        // publish the segments the other ranks sum; this rank's own segment stays in data
        for (int p = 0; p < n; p++) {
            if (p != me) {
                int f = (int) ((long) floats * p / n);
                int t = (int) ((long) floats * (p + 1) / n);
                own.put(SharedRegions.HEADER + 4 * f, data, base + 4 * f, 4 * (t - f));
            }
        }
        c.barrier(); // every region holds its rank's values of the other segments
        // data[segment] = r0 + r1 + ... in rank order. It holds this rank's values: rank 0 adds the
        // others in order, rank 1 adds rank 0's first (a + b == b + a exactly); a later rank keeps
        // its values in its region's (otherwise unused) own segment and starts from rank 0's
        ByteBuffer acc = data.duplicate().order(ByteOrder.nativeOrder()).position(base + 4 * from);
        if (me >= 2) {
            own.put(SharedRegions.HEADER + 4 * from, data, base + 4 * from, 4 * len);
            acc.duplicate().put(regions.region(0).duplicate().position(SharedRegions.HEADER + 4 * from).limit(SharedRegions.HEADER + 4 * to));
        }
        // the ranks added to acc, in this order: 1.. for rank 0 and the later ranks, 0, 2.. for rank 1
        for (int k = 1; k < n; k++) {
            int p = me == 1 && k == 1 ? 0 : k;
            ByteBuffer src = regions.region(p).duplicate().order(ByteOrder.nativeOrder()).position(SharedRegions.HEADER + 4 * from);
            if (k < n - 1) {
                FloatAdd.add(acc.duplicate().order(ByteOrder.nativeOrder()), src, len, tmpA, tmpB);
            } else {
                // the last add also publishes the sum in this rank's region
                FloatAdd.addAndCopy(acc.duplicate().order(ByteOrder.nativeOrder()), src,
                        own.duplicate().order(ByteOrder.nativeOrder()).position(SharedRegions.HEADER + 4 * from), len, tmpA, tmpB);
            }
        }
        c.barrier(); // every segment is summed
        for (int p = 0; p < n; p++) {
            if (p == me) {
                continue;
            }
            int f = (int) ((long) floats * p / n);
            int t = (int) ((long) floats * (p + 1) / n);
            data.put(base + 4 * f, regions.region(p), SharedRegions.HEADER + 4 * f, 4 * (t - f));
        }
        // no barrier here: the next operation of this length first writes outside the segments
        // read now, and one of another length begins with a barrier (the class comment)
        return true;
    }

    @Override
    public void close() {
        regions.close();
    }
}
