package siameseim.collective;

import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/** N ranks as threads of this JVM on 127.0.0.1, for collective tests. */
public final class LocalGroup implements AutoCloseable {
    public final List<Collective> ranks = new ArrayList<>();
    final List<String> log = java.util.Collections.synchronizedList(new ArrayList<>());
    final List<ServerSocketChannel> listeners = new ArrayList<>();
    final List<Peer> peers = new ArrayList<>();
    final byte[] secret = Handshake.newSecret();
    private final ExecutorService pool;

    public LocalGroup(int n, long timeoutMillis) throws Exception {
        this(n, timeoutMillis, true);
    }

    LocalGroup(int n, long timeoutMillis, boolean connectNow) throws Exception {
        pool = Executors.newCachedThreadPool();
        for (int r = 0; r < n; r++) {
            ServerSocketChannel s = TcpLink.listen("127.0.0.1");
            listeners.add(s);
            peers.add(new Peer(r, "127.0.0.1", s.socket().getLocalPort()));
        }
        if (connectNow) {
            connect(timeoutMillis);
        }
    }

    void connect(long timeoutMillis) throws Exception {
        List<Future<Collective>> fs = new ArrayList<>();
        for (int r = 0; r < peers.size(); r++) {
            int rank = r;
            fs.add(pool.submit(() -> new Collective(TcpLink.connect(listeners.get(rank), rank, peers, secret,
                    timeoutMillis, log::add))));
        }
        for (Future<Collective> f : fs) {
            ranks.add(f.get());
        }
    }

    public <T> List<T> onAll(Function<Collective, T> work) throws Exception {
        List<Future<T>> fs = new ArrayList<>();
        for (Collective c : ranks) {
            Callable<T> call = () -> work.apply(c);
            fs.add(pool.submit(call));
        }
        List<T> out = new ArrayList<>();
        for (Future<T> f : fs) {
            out.add(f.get());
        }
        return out;
    }

    @Override
    public void close() {
        ranks.forEach(Collective::close);
        pool.shutdownNow();
    }
}
