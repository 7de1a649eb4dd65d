package siameseim.collective;

import java.io.EOFException;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The {@link Link} of ranks on one host: each ordered pair of ranks has a {@link ByteRing} in
 * the sender's {@link SharedRegions} region, so a frame is two memory copies and no system call
 * (loopback TCP copies each byte through the kernel). The {@link TcpLink} the group formed over
 * stays open as the peers' liveness signal: a process that ends closes its sockets, and a waiting
 * rank sees that within {@link #LIVENESS_NANOS}; a rank that closes or fails this link also marks
 * its region closed. Timeouts and error messages are the TCP link's: a peer that moves no byte
 * within the timeout fails the call, naming its rank and address.
 *
 * <p>A waiting rank spins for a few microseconds (an exchange's partner is usually close behind),
 * then parks with pauses growing to {@link #MAX_PARK_NANOS}, so a rank that waits for a slower
 * replica gives its core back.
 */
final class SharedMemoryLink implements Link {
    /** Data bytes of each ring; a frame larger than this streams through while the receiver reads. */
    static final int RING_BYTES = 256 << 10;
    static final int SPINS = 2_000;
    static final long MAX_PARK_NANOS = 100_000;
    static final long LIVENESS_NANOS = 10_000_000;
    /** Where in its region's header a rank marks its link closed (an int, 0 while open). */
    private static final int CLOSED_AT = 48;
    private static final VarHandle INTS = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.nativeOrder());

    private final TcpLink tcp;
    private final SharedRegions regions;
    private final ByteRing[] to;
    private final ByteRing[] from;
    private final ExecutorService sender;
    private volatile String failure;
    private volatile boolean closed;

    private SharedMemoryLink(TcpLink tcp, SharedRegions regions) {
        this.tcp = tcp;
        this.regions = regions;
        int n = tcp.size();
        this.to = new ByteRing[n];
        this.from = new ByteRing[n];
        for (int p = 0; p < n; p++) {
            if (p != tcp.rank()) {
                to[p] = ring(tcp.rank(), p);
                from[p] = ring(p, tcp.rank());
            }
        }
        this.sender = Executors.newSingleThreadExecutor(r -> TcpLink.daemon(r, "siameseim-collective-send"));
    }

    /** The bytes {@link SharedRegions} maps per rank: one ring to every rank. */
    static long regionBytes(int ranks) {
        return (long) ranks * (ByteRing.HEADER + RING_BYTES);
    }

    /**
     * The link over {@code regions} (mapped by every rank of {@code tcp}'s group, at least
     * {@link #regionBytes} each); from now on {@code tcp} only tells whether peers are alive.
     */
    static SharedMemoryLink over(TcpLink tcp, SharedRegions regions) {
        return new SharedMemoryLink(tcp, regions);
    }

    private ByteRing ring(int owner, int dest) {
        ByteBuffer r = regions.region(owner).duplicate();
        int at = SharedRegions.HEADER + dest * (ByteRing.HEADER + RING_BYTES);
        return new ByteRing(r.position(at).limit(at + ByteRing.HEADER + RING_BYTES));
    }

    @Override
    public int rank() {
        return tcp.rank();
    }

    @Override
    public int size() {
        return tcp.size();
    }

    @Override
    public Peer peer(int r) {
        return tcp.peer(r);
    }

    @Override
    public Consumer<String> log() {
        return tcp.log();
    }

    @Override
    public long timeoutMillis() {
        return tcp.timeoutMillis();
    }

    @Override
    public void send(int peer, int op, int seq, ByteBuffer payload) {
        Frame.Out frame = new Frame.Out(op, seq, payload);
        ByteRing ring = ring(to, peer);
        try {
            while (!frame.done()) {
                if (ring.write(frame.source()) == 0) {
                    waitFor(peer, peer, ring::writable, Long.MAX_VALUE, "sending to");
                }
            }
        } catch (IOException e) {
            throw failed(peer, "sending to", e);
        }
    }

    @Override
    public Future<?> sendAsync(int peer, int op, int seq, ByteBuffer payload) {
        return sender.submit(() -> send(peer, op, seq, payload));
    }

    @Override
    public void receive(int peer, int op, int seq, ByteBuffer into) {
        Frame.In frame = new Frame.In(op, seq, into);
        ByteRing ring = ring(from, peer);
        try {
            while (!frame.done()) {
                if (ring.read(frame.target()) == 0) {
                    waitFor(peer, peer, ring::readable, Long.MAX_VALUE, "waiting for");
                }
                frame.arrived(peer(peer));
            }
        } catch (IOException e) {
            throw failed(peer, "waiting for", e);
        }
    }

    @Override
    public Duplex duplex(int toPeer, int fromPeer) throws IOException {
        ByteRing out = ring(to, toPeer);
        ByteRing in = ring(from, fromPeer);
        return new Duplex() {
            @Override
            public long send(Frame.Out frame) {
                long moved = 0;
                int k;
                while (!frame.done() && (k = out.write(frame.source())) > 0) {
                    moved += k;
                }
                return moved;
            }

            @Override
            public long receive(Frame.In frame) throws IOException {
                long moved = 0;
                int k;
                while (!frame.done() && (k = in.read(frame.target())) > 0) {
                    moved += k;
                    frame.arrived(peer(fromPeer));
                }
                return moved;
            }

            @Override
            public void await(boolean send, boolean receive, long millis) throws IOException {
                waitFor(fromPeer, toPeer, () -> send && out.writable() || receive && in.readable(),
                        millis * 1_000_000, null);
            }

            @Override
            public void close() {
                // nothing to restore: the rings stay as they are between operations
            }
        };
    }

    private ByteRing ring(ByteRing[] rings, int peer) {
        if (failure != null) {
            throw new CollectiveException(failure);
        }
        if (rings[peer] == null) {
            throw new IllegalArgumentException("no ring to rank " + peer);
        }
        return rings[peer];
    }

    /**
     * Waits until {@code ready}, or {@code limitNanos} passed (then returns), or one of the two
     * peers is gone or {@code peer} is silent for the timeout (then throws, naming it; {@code what}
     * null: no timeout here, the caller keeps its own).
     */
    private void waitFor(int peer, int other, BooleanSupplier ready, long limitNanos, String what)
            throws IOException {
        long start = System.nanoTime();
        long lastCheck = start;
        long timeout = timeoutMillis() * 1_000_000;
        for (int idle = 0; !ready.getAsBoolean(); idle++) {
            if (idle < SPINS) {
                Thread.onSpinWait();
                continue;
            }
            LockSupport.parkNanos(Math.min(MAX_PARK_NANOS, 1_000L << Math.min(idle - SPINS, 20)));
            long now = System.nanoTime();
            if (closed) {
                throw new IOException("link closed");
            }
            if (Thread.currentThread().isInterrupted()) {
                throw new java.io.InterruptedIOException("interrupted while " + (what != null ? what : "exchanging with")
                        + " " + peer(peer));
            }
            if (now - lastCheck >= LIVENESS_NANOS) {
                lastCheck = now;
                for (int p : new int[] {peer, other}) {
                    if (peerClosed(p)) {
                        throw new EOFException(peer(p) + " closed its link");
                    }
                }
            }
            if (now - start >= limitNanos) {
                return;
            }
            if (what != null && now - start > timeout) {
                failure = "rank " + rank() + ": " + peer(peer) + " did not answer within " + timeoutMillis() / 1000
                        + " s (" + what + " it)";
                throw new IOException(failure);
            }
        }
    }

    private boolean peerClosed(int peer) {
        return (int) INTS.getAcquire(regions.region(peer), CLOSED_AT) != 0 || tcp.closedBy(peer);
    }

    private CollectiveException failed(int peer, String what, IOException e) {
        String reason = failure != null ? failure
                : e instanceof Frame.Malformed ? "rank " + rank() + ": " + e.getMessage()
                : "rank " + rank() + ": lost " + peer(peer) + " while " + what + " it: " + e.getMessage();
        return fail(reason, e);
    }

    @Override
    public CollectiveException fail(String reason, Throwable cause) {
        failure = failure != null ? failure : reason;
        close();
        return new CollectiveException(failure, cause);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        INTS.setRelease(regions.region(rank()), CLOSED_AT, 1);
        sender.shutdownNow();
        tcp.close(); // the mappings go with this object or the process

    }
}
