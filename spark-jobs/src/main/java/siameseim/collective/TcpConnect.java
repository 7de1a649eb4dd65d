package siameseim.collective;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Set-up of a {@link TcpLink}: rank r dials the ranks below it and accepts the ranks above it,
 * and every connection must pass the mutual HMAC challenge ({@link Handshake}) within the
 * timeout; a connection that fails is closed and logged and does not take a peer's place.
 */
final class TcpConnect {
    private TcpConnect() {}

    /** Opens this rank's listener on {@code host} (an address of this machine), any free port. */
    static ServerSocketChannel listen(String host) throws IOException {
        ServerSocketChannel s = ServerSocketChannel.open();
        s.bind(new InetSocketAddress(host, 0), 64);
        return s;
    }

    /**
     * The authenticated connection to every other rank, indexed by rank (null at this rank).
     *
     * @throws CollectiveException when a peer cannot be reached or authenticated in time
     */
    static SocketChannel[] channels(ServerSocketChannel listener, int rank, List<Peer> peers, byte[] secret,
            long timeoutMillis, Consumer<String> log) {
        int n = peers.size();
        SocketChannel[] ch = new SocketChannel[n];
        CountDownLatch accepted = new CountDownLatch(n - 1 - rank);
        String[] acceptError = new String[1];
        Thread acceptor = TcpLink.daemon(() -> {
            long deadline = System.currentTimeMillis() + timeoutMillis;
            while (accepted.getCount() > 0 && System.currentTimeMillis() < deadline) {
                SocketChannel c = null;
                try {
                    listener.configureBlocking(true);
                    c = listener.accept();
                    SocketChannel conn = c;
                    int peer = withDeadline(conn, timeoutMillis, () -> Handshake.server(conn, secret));
                    if (peer <= rank || peer >= n || ch[peer] != null) {
                        throw new IOException("unexpected rank " + peer);
                    }
                    tune(c);
                    ch[peer] = c;
                    accepted.countDown();
                } catch (IOException e) {
                    String from = TcpLink.describe(c);
                    log.accept("collective: refused connection from " + from + ": " + e.getMessage());
                    TcpLink.closeQuietly(c);
                    if (listener.socket().isClosed()) {
                        acceptError[0] = "listener closed";
                        return;
                    }
                }
            }
        }, "siameseim-collective-accept");
        acceptor.start();
        try {
            for (int peer = 0; peer < rank; peer++) {
                ch[peer] = dial(peers.get(peer), rank, secret, timeoutMillis);
            }
            if (!accepted.await(timeoutMillis, TimeUnit.MILLISECONDS)) {
                StringBuilder missing = new StringBuilder();
                for (int p = rank + 1; p < n; p++) {
                    if (ch[p] == null) {
                        missing.append(missing.length() == 0 ? "" : ", ").append(peers.get(p));
                    }
                }
                throw new CollectiveException("rank " + rank + ": no authenticated connection from " + missing
                        + " within " + timeoutMillis / 1000 + " s" + (acceptError[0] == null ? "" : " (" + acceptError[0] + ")"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CollectiveException("interrupted while connecting", e);
        } catch (RuntimeException e) {
            for (SocketChannel c : ch) {
                TcpLink.closeQuietly(c);
            }
            throw e;
        }
        return ch;
    }

    private static SocketChannel dial(Peer p, int myRank, byte[] secret, long timeoutMillis) {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        IOException last = null;
        while (System.currentTimeMillis() < deadline) {
            SocketChannel c = null;
            try {
                c = SocketChannel.open();
                c.socket().connect(new InetSocketAddress(p.host(), p.port()), (int) Math.max(1, timeoutMillis / 4));
                SocketChannel conn = c;
                withDeadline(conn, timeoutMillis, () -> {
                    Handshake.client(conn, myRank, secret);
                    return 0;
                });
                tune(c);
                return c;
            } catch (IOException e) {
                last = e;
                TcpLink.closeQuietly(c);
                try {
                    Thread.sleep(200);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        throw new CollectiveException("rank " + myRank + ": could not connect to " + p + " within "
                + timeoutMillis / 1000 + " s: " + (last == null ? "timeout" : last.getMessage()));
    }

    private interface IoCall<T> {
        T call() throws IOException;
    }

    /** Runs a handshake step, closing the channel if it takes longer than the timeout. */
    private static <T> T withDeadline(SocketChannel c, long timeoutMillis, IoCall<T> call) throws IOException {
        Thread t = TcpLink.daemon(() -> {
            try {
                Thread.sleep(timeoutMillis);
                TcpLink.closeQuietly(c);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "siameseim-handshake-timeout");
        t.start();
        try {
            return call.call();
        } finally {
            t.interrupt();
        }
    }

    private static void tune(SocketChannel c) throws IOException {
        c.setOption(StandardSocketOptions.TCP_NODELAY, true);
        // buffer sizes are left to the kernel: setting SO_SNDBUF/SO_RCVBUF turns Linux's
        // autotuning off and is capped by net.core.[rw]mem_max (about 200 KB by default)
        c.configureBlocking(true);
    }
}
