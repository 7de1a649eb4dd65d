package siameseim.collective;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * Bandwidth-optimal ring all-reduce (sum) of a float buffer: N-1 reduce-scatter steps then N-1
 * all-gather steps, each rank sending 2 (N-1)/N of the buffer. Segments are cut into chunks;
 * chunks are sent by the transport's sender thread while this thread receives and adds the
 * previous ones, so sending, receiving and adding overlap. Every segment is summed by one rank
 * in one order and then copied, so all ranks end with bit-identical results.
 */
final class RingAllReduce {
    static final int CHUNK_FLOATS = 1 << 17; // 512 KiB

    private RingAllReduce() {}

    /** @param data native-order floats, position..limit; replaced by the sum over ranks */
    static void sum(Transport t, int op, ByteBuffer data) {
        int n = t.size();
        if (n == 1) {
            return;
        }
        int r = t.rank();
        int next = (r + 1) % n;
        int prev = (r + n - 1) % n;
        int base = data.position();
        int floats = data.remaining() / 4;
        int[] segStart = new int[n + 1];
        for (int i = 0; i <= n; i++) {
            segStart[i] = (int) ((long) floats * i / n);
        }
        int chunksPerSeg = (segStart[1] - segStart[0] + CHUNK_FLOATS) / CHUNK_FLOATS + 1;
        ByteBuffer scratch = ByteBuffer.allocateDirect(CHUNK_FLOATS * 4).order(ByteOrder.nativeOrder());
        float[] a = new float[CHUNK_FLOATS];
        float[] b = new float[CHUNK_FLOATS];
        for (int step = 0; step < n - 1; step++) {
            int sendSeg = (r - step + n) % n;
            int recvSeg = (r - step - 1 + n) % n;
            List<Future<?>> sends = sendSegment(t, next, op, step * chunksPerSeg, data, base, segStart, sendSeg);
            int seq = step * chunksPerSeg;
            for (int from = segStart[recvSeg]; from < segStart[recvSeg + 1]; from += CHUNK_FLOATS, seq++) {
                int len = Math.min(CHUNK_FLOATS, segStart[recvSeg + 1] - from);
                scratch.clear().limit(len * 4);
                t.receive(prev, op, seq, scratch);
                scratch.flip();
                FloatBuffer in = scratch.asFloatBuffer();
                FloatBuffer mine = slice(data, base, from, len).asFloatBuffer();
                in.get(a, 0, len);
                mine.get(b, 0, len);
                for (int i = 0; i < len; i++) {
                    b[i] += a[i];
                }
                slice(data, base, from, len).asFloatBuffer().put(b, 0, len);
            }
            await(sends);
        }
        for (int step = 0; step < n - 1; step++) {
            int sendSeg = (r - step + 1 + n) % n;
            int recvSeg = (r - step + n) % n;
            int seqBase = (n - 1 + step) * chunksPerSeg;
            List<Future<?>> sends = sendSegment(t, next, op, seqBase, data, base, segStart, sendSeg);
            int seq = seqBase;
            for (int from = segStart[recvSeg]; from < segStart[recvSeg + 1]; from += CHUNK_FLOATS, seq++) {
                int len = Math.min(CHUNK_FLOATS, segStart[recvSeg + 1] - from);
                t.receive(prev, op, seq, slice(data, base, from, len));
            }
            await(sends);
        }
    }

    private static List<Future<?>> sendSegment(Transport t, int to, int op, int seqBase, ByteBuffer data, int base,
            int[] segStart, int seg) {
        List<Future<?>> out = new ArrayList<>();
        int seq = seqBase;
        for (int from = segStart[seg]; from < segStart[seg + 1]; from += CHUNK_FLOATS, seq++) {
            int len = Math.min(CHUNK_FLOATS, segStart[seg + 1] - from);
            out.add(t.sendAsync(to, op, seq, slice(data, base, from, len)));
        }
        return out;
    }

    static ByteBuffer slice(ByteBuffer data, int base, int fromFloat, int lenFloats) {
        ByteBuffer d = data.duplicate().order(ByteOrder.nativeOrder());
        d.limit(base + (fromFloat + lenFloats) * 4).position(base + fromFloat * 4);
        return d.slice().order(ByteOrder.nativeOrder());
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
