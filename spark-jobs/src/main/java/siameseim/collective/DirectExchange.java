package siameseim.collective;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * The latency-bound algorithms over a {@link Link}: every rank sends its buffer to every other
 * one in one round (all-gather, the small all-reduce, barrier) or the root sends to all
 * (broadcast). Sums add the ranks' buffers in rank order, so every rank gets the same bits.
 */
final class DirectExchange {
    /** Messages up to this size are written inline: they fit a socket's send buffer and a shared-memory ring. */
    static final int INLINE_BYTES = 8 << 10;

    private DirectExchange() {}

    /** Replaces {@code data} (native-order floats, position..limit) with its sum over ranks. */
    static void sum(Link link, int op, ByteBuffer data) {
        int n = link.size();
        int me = link.rank();
        int floats = data.remaining() / 4;
        List<Future<?>> sends = sendToAll(link, op, data);
        float[][] parts = new float[n][];
        FloatBuffer mine = data.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
        parts[me] = new float[floats];
        mine.get(parts[me]);
        ByteBuffer scratch = ByteBuffer.allocateDirect(data.remaining()).order(ByteOrder.nativeOrder());
        for (int p = 0; p < n; p++) {
            if (p != me) {
                scratch.clear();
                link.receive(p, op, 0, scratch);
                scratch.flip();
                parts[p] = new float[floats];
                scratch.asFloatBuffer().get(parts[p]);
            }
        }
        await(sends);
        data.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer().put(sumInRankOrder(parts));
    }

    /** Every rank's float array (all of the same length), indexed by rank. */
    static float[][] allGather(Link link, int op, float[] values) {
        int n = link.size();
        float[][] out = new float[n][];
        out[link.rank()] = values.clone();
        ByteBuffer mine = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.nativeOrder());
        mine.asFloatBuffer().put(values);
        List<Future<?>> sends = sendToAll(link, op, mine);
        ByteBuffer scratch = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.nativeOrder());
        for (int p = 0; p < n; p++) {
            if (p != link.rank()) {
                scratch.clear();
                link.receive(p, op, 0, scratch);
                scratch.flip();
                out[p] = new float[values.length];
                scratch.asFloatBuffer().get(out[p]);
            }
        }
        await(sends);
        return out;
    }

    /** Every rank's value, indexed by rank. */
    static long[] allGather(Link link, int op, long value) {
        int n = link.size();
        long[] out = new long[n];
        out[link.rank()] = value;
        List<Future<?>> sends = sendToAll(link, op, ByteBuffer.allocate(8).putLong(0, value));
        for (int p = 0; p < n; p++) {
            if (p != link.rank()) {
                ByteBuffer b = ByteBuffer.allocate(8);
                link.receive(p, op, 0, b);
                out[p] = b.flip().getLong();
            }
        }
        await(sends);
        return out;
    }

    /** Copies {@code root}'s buffer to every rank. */
    static void broadcast(Link link, int op, ByteBuffer data, int root) {
        if (link.rank() == root) {
            List<Future<?>> sends = new ArrayList<>();
            for (int p = 0; p < link.size(); p++) {
                if (p != root) {
                    sends.add(link.sendAsync(p, op, 0, data.duplicate()));
                }
            }
            await(sends);
        } else {
            link.receive(root, op, 0, data.duplicate());
        }
    }

    /**
     * Sends {@code data} to every other rank: inline (this thread) when it is small enough to fit
     * the socket buffers, which saves a thread hand-off on the many tiny exchanges of a training
     * step; otherwise on the link's sender thread, so receives can proceed meanwhile.
     */
    private static List<Future<?>> sendToAll(Link link, int op, ByteBuffer data) {
        List<Future<?>> sends = new ArrayList<>();
        for (int p = 0; p < link.size(); p++) {
            if (p == link.rank()) {
                continue;
            }
            if (data.remaining() <= INLINE_BYTES) {
                link.send(p, op, 0, data.duplicate());
            } else {
                sends.add(link.sendAsync(p, op, 0, data.duplicate()));
            }
        }
        return sends;
    }

    /** The element-wise sum of the ranks' arrays, added in rank order. */
    static float[] sumInRankOrder(float[][] parts) {
        float[] sum = Arrays.copyOf(parts[0], parts[0].length);
        for (int p = 1; p < parts.length; p++) {
            float[] q = parts[p];
            for (int i = 0; i < sum.length; i++) {
                sum[i] += q[i];
            }
        }
        return sum;
    }

    static void await(List<Future<?>> futures) {
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CollectiveException("interrupted", e);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof CollectiveException ce) {
                    throw ce;
                }
                throw new CollectiveException(String.valueOf(e.getCause()), e.getCause());
            }
        }
    }
}
