package siameseim.collective;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;

/**
 * Bandwidth-optimal ring all-reduce (sum) of a float buffer over a {@link Link}: N-1
 * reduce-scatter steps then N-1 all-gather steps, each rank sending 2 (N-1)/N of the buffer to its
 * successor and receiving as much from its predecessor, pipelined chunk by chunk across the steps
 * (a chunk goes on as soon as it is added or stored). One thread drives both directions through
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
            pipeline(io, op, chunksPerSeg, chunk, data, base, segStart);
        } catch (IOException e) {
            throw t.fail("rank " + r + ": ring all-reduce with " + t.peer(next) + " / " + t.peer(prev) + " failed: "
                    + e.getMessage(), e);
        }
    }

    /** The segment rank {@code r} sends in ring step {@code step} (reduce-scatter steps, then all-gather steps). */
    static int sendSegment(int r, int step, int n) {
        return step < n - 1 ? (r - step + n) % n : (r - step + n + n) % n;
    }

    /** The segment rank {@code r} receives in ring step {@code step}: the one it sends in the next step. */
    static int receiveSegment(int r, int step, int n) {
        return sendSegment(r, step + 1, n);
    }

    /**
     * All 2 (N - 1) steps as one pipeline: the segment a step receives is the one the next step
     * sends, so each received chunk, once added (reduce-scatter) or stored (all-gather), is queued
     * for the successor at once, instead of after the whole step. A step's sends and receives no
     * longer wait for the slowest chunk of the step before; frames still leave and arrive in
     * (step, chunk) order, and every segment is summed in the same order as before (same bits).
     * One incoming frame at a time lands in {@code scratch}.
     */
    private void pipeline(Link.Duplex io, int op, int chunksPerSeg, int chunk, ByteBuffer data, int base,
            int[] segStart) throws IOException {
        int n = t.size();
        int r = t.rank();
        int steps = 2 * (n - 1);
        ArrayDeque<Frame.Out> sends = new ArrayDeque<>();
        int first = sendSegment(r, 0, n);
        int seq = 0;
        for (int from = segStart[first]; from < segStart[first + 1]; from += chunk, seq++) {
            sends.add(new Frame.Out(op, seq, slice(data, base, from, Math.min(chunk, segStart[first + 1] - from))));
        }
        int recvStep = 0;
        int recvSeg = receiveSegment(r, 0, n);
        int recvFrom = segStart[recvSeg];
        int recvChunk = 0;
        Frame.In incoming = null;
        int payloadFloats = 0;
        long lastProgress = System.currentTimeMillis();
        while (true) {
            while (recvStep < steps && recvFrom >= segStart[recvSeg + 1]) { // a step done (or an empty segment)
                recvStep++;
                if (recvStep < steps) {
                    recvSeg = receiveSegment(r, recvStep, n);
                    recvFrom = segStart[recvSeg];
                    recvChunk = 0;
                }
            }
            if (sends.isEmpty() && recvStep == steps) {
                return;
            }
            long moved = 0;
            while (!sends.isEmpty()) {
                moved += io.send(sends.peek());
                if (!sends.peek().done()) {
                    break;
                }
                sends.poll();
            }
            while (recvStep < steps && recvFrom < segStart[recvSeg + 1]) {
                boolean reduce = recvStep < n - 1;
                if (incoming == null) {
                    payloadFloats = Math.min(chunk, segStart[recvSeg + 1] - recvFrom);
                    incoming = new Frame.In(op, recvStep * chunksPerSeg + recvChunk, reduce
                            ? scratch.clear().limit(payloadFloats * 4) : slice(data, base, recvFrom, payloadFloats));
                }
                moved += io.receive(incoming);
                if (!incoming.done()) {
                    break;
                }
                if (reduce) {
                    scratch.flip();
                    FloatAdd.add(slice(data, base, recvFrom, payloadFloats), scratch, payloadFloats, a, b);
                }
                if (recvStep + 1 < steps) {
                    sends.add(new Frame.Out(op, (recvStep + 1) * chunksPerSeg + recvChunk,
                            slice(data, base, recvFrom, payloadFloats)));
                }
                incoming = null;
                recvFrom += payloadFloats;
                recvChunk++;
            }
            long now = System.currentTimeMillis();
            boolean receiving = recvStep < steps;
            if (moved > 0) {
                lastProgress = now;
            } else if (now - lastProgress > t.timeoutMillis()) {
                throw new IOException("no progress for " + t.timeoutMillis() / 1000 + " s: "
                        + (receiving ? t.peer(prev(t)) + " did not send" : t.peer(next(t)) + " did not read"));
            } else {
                io.await(!sends.isEmpty(), receiving, 200);
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
