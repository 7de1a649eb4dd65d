package siameseim.collective;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;

/**
 * Bandwidth-optimal ring all-reduce (sum) of a float buffer over a {@link Link}: N-1
 * reduce-scatter steps then N-1 all-gather steps, each rank sending 2 (N-1)/N of the buffer to its
 * successor and receiving as much from its predecessor. One thread drives both directions through
 * the link's non-blocking {@link Link.Duplex}: it sends outgoing chunks whenever the link takes
 * them and adds incoming chunks as they complete, so sending, receiving and adding overlap
 * without a second thread competing for the core. Every segment is summed by one rank in one
 * order and then copied, so all ranks end with bit-identical results. Frames carry (op, seq,
 * length) and are checked on arrival.
 */
final class RingAllReduce {
    static final int MAX_CHUNK_FLOATS = 1 << 19; // 2 MiB
    static final int MIN_CHUNK_FLOATS = 1 << 14; // 64 KiB

    private final Link t;
    /** Where incoming chunks land before they are added (one all-reduce runs at a time). */
    private final ByteBuffer scratch = ByteBuffer.allocateDirect(MAX_CHUNK_FLOATS * 4).order(ByteOrder.nativeOrder());
    private final float[] a = new float[1 << 14];
    private final float[] b = new float[1 << 14];

    RingAllReduce(Link link) {
        this.t = link;
    }

    /** @param data native-order floats, position..limit; replaced by the sum over ranks */
    void sum(int op, ByteBuffer data) {
        int n = t.size();
        if (n == 1) {
            return;
        }
        int r = t.rank();
        int next = next(t);
        int prev = prev(t);
        int base = data.position();
        int floats = data.remaining() / 4;
        int[] segStart = new int[n + 1];
        for (int i = 0; i <= n; i++) {
            segStart[i] = (int) ((long) floats * i / n);
        }
        // at least four chunks per segment, so receiving and adding overlap even for small buffers
        int chunk = Math.max(MIN_CHUNK_FLOATS, Math.min(MAX_CHUNK_FLOATS, (segStart[1] - segStart[0]) / 4));
        int chunksPerSeg = (segStart[1] - segStart[0] + chunk) / chunk + 1;
        try (Link.Duplex io = t.duplex(next, prev)) {
            for (int step = 0; step < 2 * (n - 1); step++) {
                boolean reduce = step < n - 1;
                int sendSeg = reduce ? (r - step + n) % n : (r - step + n + n) % n;
                int recvSeg = reduce ? (r - step - 1 + n) % n : (r - step + n - 1 + n) % n;
                step(io, op, step * chunksPerSeg, chunk, data, base, segStart, sendSeg, recvSeg, reduce);
            }
        } catch (IOException e) {
            throw t.fail("rank " + r + ": ring all-reduce with " + t.peer(next) + " / " + t.peer(prev) + " failed: "
                    + e.getMessage(), e);
        }
    }

    /**
     * One ring step: sends segment {@code sendSeg} to the successor in chunks while receiving
     * segment {@code recvSeg} from the predecessor, adding each chunk as it completes
     * ({@code reduce}) or copying it in place.
     */
    private void step(Link.Duplex io, int op, int seqBase, int chunk, ByteBuffer data, int base, int[] segStart,
            int sendSeg, int recvSeg, boolean reduce) throws IOException {
        ArrayDeque<Frame.Out> sends = new ArrayDeque<>();
        int seq = seqBase;
        for (int from = segStart[sendSeg]; from < segStart[sendSeg + 1]; from += chunk, seq++) {
            sends.add(new Frame.Out(op, seq, slice(data, base, from, Math.min(chunk, segStart[sendSeg + 1] - from))));
        }
        int recvFrom = segStart[recvSeg];
        int recvEnd = segStart[recvSeg + 1];
        int recvSeq = seqBase;
        Frame.In incoming = null;
        int payloadFloats = 0;
        long lastProgress = System.currentTimeMillis();
        while (!sends.isEmpty() || recvFrom < recvEnd) {
            long moved = 0;
            if (!sends.isEmpty()) {
                moved += io.send(sends.peek());
                if (sends.peek().done()) {
                    sends.poll();
                }
            }
            while (recvFrom < recvEnd) {
                if (incoming == null) {
                    payloadFloats = Math.min(chunk, recvEnd - recvFrom);
                    incoming = new Frame.In(op, recvSeq, reduce ? scratch.clear().limit(payloadFloats * 4)
                            : slice(data, base, recvFrom, payloadFloats));
                }
                moved += io.receive(incoming);
                if (!incoming.done()) {
                    break;
                }
                if (reduce) {
                    scratch.flip();
                    FloatAdd.add(slice(data, base, recvFrom, payloadFloats), scratch, payloadFloats, a, b);
                }
                incoming = null;
                recvFrom += payloadFloats;
                recvSeq++;
            }
            long now = System.currentTimeMillis();
            if (moved > 0) {
                lastProgress = now;
            } else if (now - lastProgress > t.timeoutMillis()) {
                throw new IOException("no progress for " + t.timeoutMillis() / 1000 + " s: "
                        + (recvFrom < recvEnd ? t.peer(prev(t)) + " did not send" : t.peer(next(t)) + " did not read"));
            } else {
                io.await(!sends.isEmpty(), recvFrom < recvEnd, 200);
            }
        }
    }

    private static int next(Link t) {
        return (t.rank() + 1) % t.size();
    }

    private static int prev(Link t) {
        return (t.rank() + t.size() - 1) % t.size();
    }

    static ByteBuffer slice(ByteBuffer data, int base, int fromFloat, int lenFloats) {
        ByteBuffer d = data.duplicate().order(ByteOrder.nativeOrder());
        d.limit(base + (fromFloat + lenFloats) * 4).position(base + fromFloat * 4);
        return d.slice().order(ByteOrder.nativeOrder());
    }
}
