package siameseim.collective;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * N ranks in this JVM whose links are in-memory pipes, one per direction of every pair: the
 * algorithms tested apart from TCP (no sockets, handshake or watchdog).
 */
final class MemoryLinks {
    private MemoryLinks() {}

    static List<Link> create(int n) throws IOException {
        Pipe[][] pipes = new Pipe[n][n]; // pipes[a][b] carries a's frames to b
        for (int a = 0; a < n; a++) {
            for (int b = 0; b < n; b++) {
                if (a != b) {
                    pipes[a][b] = Pipe.open();
                }
            }
        }
        List<Link> links = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            links.add(new MemoryLink(r, pipes));
        }
        return links;
    }

    private static final class MemoryLink implements Link {
        private final int rank;
        private final Pipe[][] pipes;
        private final ExecutorService sender = Executors.newSingleThreadExecutor();

        MemoryLink(int rank, Pipe[][] pipes) {
            this.rank = rank;
            this.pipes = pipes;
        }

        @Override
        public int rank() {
            return rank;
        }

        @Override
        public int size() {
            return pipes.length;
        }

        @Override
        public Peer peer(int r) {
            return new Peer(r, "memory", 0);
        }

        @Override
        public Consumer<String> log() {
            return line -> { };
        }

        @Override
        public long timeoutMillis() {
            return 30_000;
        }

        @Override
        public void send(int peer, int op, int seq, ByteBuffer payload) {
            Frame.Out frame = new Frame.Out(op, seq, payload);
            try {
                Pipe.SinkChannel sink = pipes[rank][peer].sink();
                while (!frame.done()) {
                    sink.write(frame.parts);
                }
            } catch (IOException e) {
                throw fail("rank " + rank + ": sending to rank " + peer + " failed", e);
            }
        }

        @Override
        public Future<?> sendAsync(int peer, int op, int seq, ByteBuffer payload) {
            return sender.submit(() -> send(peer, op, seq, payload));
        }

        @Override
        public void receive(int peer, int op, int seq, ByteBuffer into) {
            ReadableByteChannel source = pipes[peer][rank].source();
            Frame.In frame = new Frame.In(op, seq, into);
            try {
                while (!frame.done()) {
                    if (source.read(frame.target()) < 0) {
                        throw new EOFException("pipe closed");
                    }
                    frame.arrived(peer(peer));
                }
            } catch (IOException e) {
                throw fail("rank " + rank + ": receiving from rank " + peer + " failed: " + e.getMessage(), e);
            }
        }

        @Override
        public Duplex duplex(int to, int from) throws IOException {
            return new ChannelDuplex(pipes[rank][to].sink(), pipes[from][rank].source(), peer(from));
        }

        @Override
        public CollectiveException fail(String reason, Throwable cause) {
            close();
            return new CollectiveException(reason, cause);
        }

        @Override
        public void close() {
            sender.shutdownNow();
        }
    }
}
