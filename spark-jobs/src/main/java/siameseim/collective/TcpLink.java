package siameseim.collective;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The {@link Link} between hosts: authenticated TCP connections between every pair of ranks (rank
 * r dials the ranks below it and accepts the ranks above it), with framed, deadline-bounded sends
 * and receives. A peer that does not answer within the timeout has its connection closed by a
 * watchdog, and the blocked call fails with an error naming the rank and host; a malformed or
 * unexpected frame is rejected. Knows nothing about Spark: rendezvous (who listens where) is
 * given to it.
 */
public final class TcpLink implements Link {
    private final int rank;
    private final List<Peer> peers;
    private final SocketChannel[] channels;
    private final ServerSocketChannel listener;
    private final long timeoutMillis;
    private final Consumer<String> log;
    private final ExecutorService sender;
    private final Map<Long, Deadline> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final Thread watchdog;
    private final Thread refuser;
    private volatile String failure;
    private volatile boolean closed;

    private record Deadline(int peer, long at, String what) {}

    TcpLink(int rank, List<Peer> peers, SocketChannel[] channels, ServerSocketChannel listener,
            long timeoutMillis, Consumer<String> log) {
        this.rank = rank;
        this.peers = peers;
        this.channels = channels;
        this.listener = listener;
        this.timeoutMillis = timeoutMillis;
        this.log = log;
        this.sender = Executors.newSingleThreadExecutor(r -> daemon(r, "siameseim-collective-send"));
        this.watchdog = daemon(this::watch, "siameseim-collective-watchdog");
        this.watchdog.start();
        // after set-up the listener stays open only to refuse (and report) strangers
        this.refuser = daemon(this::refuseLateComers, "siameseim-collective-refuse");
        this.refuser.start();
    }

    static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Opens this rank's listener on {@code host} (an address of this machine), any free port. */
    public static ServerSocketChannel listen(String host) throws IOException {
        return TcpConnect.listen(host);
    }

    /**
     * Connects this rank to all others ({@link TcpConnect}). {@code peers} is indexed by rank and
     * includes this one.
     *
     * @throws CollectiveException when a peer cannot be reached or authenticated in time
     */
    public static TcpLink connect(ServerSocketChannel listener, int rank, List<Peer> peers, byte[] secret,
            long timeoutMillis, Consumer<String> log) {
        return new TcpLink(rank, peers, TcpConnect.channels(listener, rank, peers, secret, timeoutMillis, log),
                listener, timeoutMillis, log);
    }

    private void refuseLateComers() {
        while (!closed) {
            SocketChannel c = null;
            try {
                c = listener.accept();
                log.accept("collective: refused connection from " + describe(c) + " after set-up");
            } catch (IOException e) {
                return;
            } finally {
                closeQuietly(c);
            }
        }
    }

    @Override
    public Consumer<String> log() {
        return log;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return peers.size();
    }

    @Override
    public Peer peer(int r) {
        return peers.get(r);
    }

    @Override
    public void send(int peer, int op, int seq, ByteBuffer payload) {
        long id = begin(peer, "sending to");
        try {
            Frame.Out frame = new Frame.Out(op, seq, payload);
            SocketChannel c = channel(peer);
            while (!frame.done()) {
                c.write(frame.parts);
            }
        } catch (IOException e) {
            throw failed(peer, "sending to", e);
        } finally {
            pending.remove(id);
        }
    }

    @Override
    public Future<?> sendAsync(int peer, int op, int seq, ByteBuffer payload) {
        return sender.submit(() -> send(peer, op, seq, payload));
    }

    @Override
    public void receive(int peer, int op, int seq, ByteBuffer into) {
        long id = begin(peer, "waiting for");
        try {
            Frame.In frame = new Frame.In(op, seq, into);
            SocketChannel c = channel(peer);
            while (!frame.done()) {
                if (c.read(frame.target()) < 0) {
                    throw new EOFException("connection closed by the peer");
                }
                frame.arrived(peers.get(peer));
            }
        } catch (IOException e) {
            throw failed(peer, "waiting for", e);
        } finally {
            pending.remove(id);
        }
    }

    /** Non-blocking frames over the sockets to {@code to} and from {@code from}. */
    @Override
    public Duplex duplex(int to, int from) throws IOException {
        return new ChannelDuplex(channel(to), channel(from), peers.get(from));
    }

    /**
     * Whether {@code peer}'s end of the connection is closed (its process ended or it closed the
     * link), without blocking: for a link that carries the traffic elsewhere and keeps these
     * sockets as the peers' liveness signal ({@link SharedMemoryLink}). Puts the socket in
     * non-blocking mode for good, so no frame may use this link afterwards; any byte that arrives
     * is a protocol error and counts as closed.
     */
    boolean closedBy(int peer) {
        try {
            SocketChannel c = channel(peer);
            if (c.isBlocking()) {
                c.configureBlocking(false);
            }
            return c.read(ByteBuffer.allocate(1)) != 0;
        } catch (IOException e) {
            return true;
        }
    }

    @Override
    public long timeoutMillis() {
        return timeoutMillis;
    }

    @Override
    public CollectiveException fail(String reason, Throwable cause) {
        failure = failure != null ? failure : reason;
        close();
        return new CollectiveException(failure, cause);
    }

    private SocketChannel channel(int peer) throws IOException {
        if (failure != null) {
            throw new ClosedChannelException();
        }
        SocketChannel c = channels[peer];
        if (c == null) {
            throw new IllegalArgumentException("no connection to rank " + peer);
        }
        return c;
    }

    private long begin(int peer, String what) {
        long id = ids.incrementAndGet();
        pending.put(id, new Deadline(peer, System.currentTimeMillis() + timeoutMillis, what));
        return id;
    }

    private CollectiveException failed(int peer, String what, IOException e) {
        String reason = failure != null ? failure
                : e instanceof Frame.Malformed ? "rank " + rank + ": " + e.getMessage()
                : "rank " + rank + ": lost " + peers.get(peer) + " while " + what + " it: " + e.getMessage();
        failure = reason;
        close();
        return new CollectiveException(reason, e);
    }

    /**
     * How often the watchdog looks at the pending calls: a twentieth of the timeout, 20 ms to 1 s.
     * Rarely, because on a host whose CPUs all train each wake-up of this normal-priority thread
     * can pre-empt a training thread (docs/distributed.md, "Thread placement").
     */
    static long watchIntervalMillis(long timeoutMillis) {
        return Math.max(20, Math.min(1000, timeoutMillis / 20));
    }

    private void watch() {
        long interval = watchIntervalMillis(timeoutMillis);
        while (!closed) {
            long now = System.currentTimeMillis();
            for (Deadline d : pending.values()) {
                if (now > d.at()) {
                    failure = "rank " + rank + ": " + peers.get(d.peer()) + " did not answer within "
                            + timeoutMillis / 1000 + " s (" + d.what() + " it)";
                    closeChannels();
                    return;
                }
            }
            try {
                Thread.sleep(interval);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void closeChannels() {
        for (SocketChannel c : channels) {
            closeQuietly(c);
        }
    }

    static String describe(SocketChannel c) {
        try {
            return c == null ? "?" : String.valueOf(c.getRemoteAddress());
        } catch (IOException e) {
            return "?";
        }
    }

    static void closeQuietly(java.io.Closeable c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeChannels();
        closeQuietly(listener);
        sender.shutdownNow();
        watchdog.interrupt();
    }
}
