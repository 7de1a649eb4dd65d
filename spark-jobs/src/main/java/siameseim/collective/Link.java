package siameseim.collective;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SelectableChannel;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * The connections between one rank and the others, as the collective's algorithms use them
 * (Gloo's split of transport and algorithm): framed sends and receives ({@link Frame}) that fail
 * with the peer's name when it does not answer within the timeout, and each peer's byte streams
 * for an algorithm that drives several transfers at once without blocking (the ring).
 * Implementations: {@link TcpLink} (authenticated sockets, any hosts) and, for tests, links over
 * in-memory pipes. Every rank calls the same operations in the same order.
 */
public interface Link extends AutoCloseable {
    int rank();

    int size();

    Peer peer(int rank);

    /** Where the link reports refused connections and similar events. */
    Consumer<String> log();

    /** How long a peer may stay silent before a call fails. */
    long timeoutMillis();

    /** Sends one frame (op, seq, the payload's length) and the payload to {@code peer}. */
    void send(int peer, int op, int seq, ByteBuffer payload);

    /** {@link #send} on the link's sender thread, so that a receive can run meanwhile. */
    Future<?> sendAsync(int peer, int op, int seq, ByteBuffer payload);

    /**
     * Receives the frame (op, seq) from {@code peer} into {@code into}, which it must fill
     * exactly; any other frame is an error.
     */
    void receive(int peer, int op, int seq, ByteBuffer into);

    /** The byte streams to and from {@code peer}; one algorithm at a time may put them in non-blocking mode. */
    Streams streams(int peer) throws IOException;

    /** Records the failure of an algorithm-driven transfer, closes the link, and returns the error to throw. */
    CollectiveException fail(String reason, Throwable cause);

    @Override
    void close();

    /** A peer's byte streams: frames to it are written to {@code out}, frames from it read from {@code in}. */
    record Streams(SelectableChannel out, SelectableChannel in) {
        public long write(ByteBuffer[] parts) throws IOException {
            return ((GatheringByteChannel) out).write(parts);
        }

        public int read(ByteBuffer into) throws IOException {
            return ((ReadableByteChannel) in).read(into);
        }
    }
}
