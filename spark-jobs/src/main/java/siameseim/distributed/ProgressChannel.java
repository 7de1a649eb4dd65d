package siameseim.distributed;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.Serializable;
import java.net.InetSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import siameseim.collective.Handshake;

/**
 * The control plane's progress line: the driver listens, rank 0 of the replicas connects
 * (authenticated with the run's secret) and sends one JSON line per event. Gradients never take
 * this path.
 */
public final class ProgressChannel {
    private ProgressChannel() {}

    /** Where the driver listens (serialised into the tasks). */
    public record Address(String host, int port) implements Serializable {}

    /** Driver side: accepts reporters and hands each line to {@code sink}. */
    public static final class Server implements AutoCloseable {
        private final ServerSocketChannel listener;
        private final Thread acceptor;
        private volatile boolean closed;

        public Server(String host, byte[] secret, Consumer<String> sink, Consumer<String> log) throws IOException {
            listener = ServerSocketChannel.open();
            listener.bind(new InetSocketAddress(host, 0), 16);
            acceptor = new Thread(() -> {
                while (!closed) {
                    try {
                        SocketChannel c = listener.accept();
                        Thread reader = new Thread(() -> serve(c, secret, sink, log), "siameseim-progress-reader");
                        reader.setDaemon(true);
                        reader.start();
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "siameseim-progress-accept");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        private static void serve(SocketChannel c, byte[] secret, Consumer<String> sink, Consumer<String> log) {
            try (c) {
                Handshake.server(c, secret);
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c),
                        StandardCharsets.UTF_8));
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.length() > 1 << 20) {
                        log.accept("progress: dropped an oversized line");
                        continue;
                    }
                    sink.accept(line);
                }
            } catch (IOException e) {
                if (!e.getMessage().contains("closed")) {
                    log.accept("progress: refused or lost a reporter: " + e.getMessage());
                }
            }
        }

        public Address address() {
            return new Address(listener.socket().getInetAddress().getHostAddress(), listener.socket().getLocalPort());
        }

        @Override
        public void close() {
            closed = true;
            try {
                listener.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    /** Executor side: sends lines; silently stops if the driver cannot be reached. */
    public static final class Reporter implements AutoCloseable {
        private OutputStream out;

        public Reporter(Address address, byte[] secret, Consumer<String> log) {
            try {
                SocketChannel c = SocketChannel.open(new InetSocketAddress(address.host(), address.port()));
                Handshake.client(c, -1, secret);
                out = Channels.newOutputStream(c);
            } catch (IOException e) {
                log.accept("progress: cannot reach the driver at " + address.host() + ":" + address.port() + ": "
                        + e.getMessage());
            }
        }

        public synchronized void send(String jsonLine) {
            if (out == null) {
                return;
            }
            try {
                out.write((jsonLine + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException e) {
                out = null;
            }
        }

        @Override
        public synchronized void close() {
            if (out != null) {
                try {
                    out.close();
                } catch (IOException ignored) {
                    // closing
                }
            }
        }
    }
}
