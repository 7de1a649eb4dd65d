package siameseim.collective;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SelectableChannel;
import java.util.ArrayDeque;

/**
 * Bandwidth-optimal ring all-reduce (sum) of a float buffer over a {@link Link}: N-1
 * reduce-scatter steps then N-1 all-gather steps, each rank sending 2 (N-1)/N of the buffer to its
 * successor and receiving as much from its predecessor. One thread drives both streams with
 * non-blocking I/O: it writes
 * outgoing chunks whenever the socket takes them and reads and adds incoming chunks as they
 * arrive, so sending, receiving and adding overlap without a second thread competing for the
 * core. Every segment is summed by one rank in one order and then copied, so all ranks end with
 * bit-identical results. Frames carry (op, seq, length) and are checked on arrival.
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
        int next = (r + 1) % n;
        int prev = (r + n - 1) % n;
        int base = data.position();
        int floats = data.remaining() / 4;
        int[] segStart = new int[n + 1];
        for (int i = 0; i <= n; i++) {
            segStart[i] = (int) ((long) floats * i / n);
        }
        // at least four chunks per segment, so receiving and adding overlap even for small buffers
        int chunk = Math.max(MIN_CHUNK_FLOATS, Math.min(MAX_CHUNK_FLOATS, (segStart[1] - segStart[0]) / 4));
        int chunksPerSeg = (segStart[1] - segStart[0] + chunk) / chunk + 1;
        try (Step io = new Step(t, next, prev)) {
            for (int step = 0; step < 2 * (n - 1); step++) {
                boolean reduce = step < n - 1;
                int sendSeg = reduce ? (r - step + n) % n : (r - step + n + n) % n;
                int recvSeg = reduce ? (r - step - 1 + n) % n : (r - step + n - 1 + n) % n;
                io.run(op, step * chunksPerSeg, chunk, data, base, segStart, sendSeg, recvSeg, reduce ? scratch : null,
                        a, b);
            }
        } catch (IOException e) {
            throw t.fail("rank " + r + ": ring all-reduce with " + t.peer(next) + " / " + t.peer(prev) + " failed: "
                    + e.getMessage(), e);
        }
    }

    /** One ring step's transfers on the stream to the successor and the one from the predecessor. */
    private static final class Step implements AutoCloseable {
        private final Link t;
        private final int next;
        private final int prev;
        private final Link.Streams to;
        private final Link.Streams from;
        private final SelectableChannel out;
        private final SelectableChannel in;
        private final Selector selector;
        private final SelectionKey outKey;
        private final SelectionKey inKey;

        Step(Link t, int next, int prev) throws IOException {
            this.t = t;
            this.next = next;
            this.prev = prev;
            this.to = t.streams(next);
            this.from = t.streams(prev);
            this.out = to.out();
            this.in = from.in();
            this.selector = Selector.open();
            out.configureBlocking(false);
            in.configureBlocking(false);
            if (out == in) {
                outKey = out.register(selector, 0);
                inKey = outKey;
            } else {
                outKey = out.register(selector, 0);
                inKey = in.register(selector, 0);
            }
        }

        void run(int op, int seqBase, int chunk, ByteBuffer data, int base, int[] segStart, int sendSeg, int recvSeg,
                ByteBuffer scratch, float[] a, float[] b) throws IOException {
            ArrayDeque<ByteBuffer[]> sends = new ArrayDeque<>();
            int seq = seqBase;
            for (int from = segStart[sendSeg]; from < segStart[sendSeg + 1]; from += chunk, seq++) {
                int len = Math.min(chunk, segStart[sendSeg + 1] - from);
                sends.add(new ByteBuffer[] {Frame.header(op, seq, len * 4), slice(data, base, from, len)});
            }
            int recvFrom = segStart[recvSeg];
            int recvEnd = segStart[recvSeg + 1];
            int recvSeq = seqBase;
            ByteBuffer header = ByteBuffer.allocate(Frame.HEADER);
            ByteBuffer payload = null;
            int payloadFloats = 0;
            long lastProgress = System.currentTimeMillis();
            while (!sends.isEmpty() || recvFrom < recvEnd) {
                boolean wantWrite = !sends.isEmpty();
                boolean wantRead = recvFrom < recvEnd;
                if (out == in) {
                    outKey.interestOps((wantWrite ? SelectionKey.OP_WRITE : 0) | (wantRead ? SelectionKey.OP_READ : 0));
                } else {
                    outKey.interestOps(wantWrite ? SelectionKey.OP_WRITE : 0);
                    inKey.interestOps(wantRead ? SelectionKey.OP_READ : 0);
                }
                selector.select(200);
                selector.selectedKeys().clear();
                boolean progress = false;
                if (wantWrite) {
                    ByteBuffer[] parts = sends.peek();
                    if (to.write(parts) > 0) {
                        progress = true;
                    }
                    if (!parts[1].hasRemaining() && !parts[0].hasRemaining()) {
                        sends.poll();
                    }
                }
                while (wantRead && recvFrom < recvEnd) {
                    if (payload == null) {
                        int got = from.read(header);
                        if (got < 0) {
                            throw new EOFException("connection closed by " + t.peer(prev));
                        }
                        if (got > 0) {
                            progress = true;
                        }
                        if (header.hasRemaining()) {
                            break;
                        }
                        payloadFloats = Math.min(chunk, recvEnd - recvFrom);
                        String wrong = Frame.mismatch(header.flip(), op, recvSeq, payloadFloats * 4);
                        if (wrong != null) {
                            throw new IOException("malformed frame from " + t.peer(prev) + ": " + wrong);
                        }
                        header.clear();
                        if (scratch != null) {
                            scratch.clear().limit(payloadFloats * 4);
                            payload = scratch;
                        } else {
                            payload = slice(data, base, recvFrom, payloadFloats);
                        }
                    }
                    int got = from.read(payload);
                    if (got < 0) {
                        throw new EOFException("connection closed by " + t.peer(prev));
                    }
                    if (got > 0) {
                        progress = true;
                    }
                    if (payload.hasRemaining()) {
                        break;
                    }
                    if (scratch != null) {
                        scratch.flip();
                        FloatAdd.add(slice(data, base, recvFrom, payloadFloats), scratch, payloadFloats, a, b);
                    }
                    payload = null;
                    recvFrom += payloadFloats;
                    recvSeq++;
                }
                long now = System.currentTimeMillis();
                if (progress) {
                    lastProgress = now;
                } else if (now - lastProgress > t.timeoutMillis()) {
                    throw new IOException("no progress for " + t.timeoutMillis() / 1000 + " s: "
                            + (recvFrom < recvEnd ? t.peer(prev) + " did not send" : t.peer(next) + " did not read"));
                }
            }
        }

        @Override
        public void close() throws IOException {
            outKey.cancel();
            inKey.cancel();
            selector.selectNow();
            selector.close();
            out.configureBlocking(true);
            in.configureBlocking(true);
        }
    }

    static ByteBuffer slice(ByteBuffer data, int base, int fromFloat, int lenFloats) {
        ByteBuffer d = data.duplicate().order(ByteOrder.nativeOrder());
        d.limit(base + (fromFloat + lenFloats) * 4).position(base + fromFloat * 4);
        return d.slice().order(ByteOrder.nativeOrder());
    }
}
