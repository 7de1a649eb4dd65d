package siameseim.collective;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * The connections between one rank and the others, as the collective's algorithms use them
 * (Gloo's split of transport and algorithm): framed sends and receives ({@link Frame}) that fail
 * with the peer's name when it does not answer within the timeout, and a non-blocking
 * {@link Duplex} for an algorithm that drives a send and a receive at once (the ring).
 * Implementations: {@link TcpLink} (authenticated sockets, any hosts), {@link SharedMemoryLink}
 * (rings in mapped memory, ranks on one host) and, for tests, links over in-memory pipes. Every
 * rank calls the same operations in the same order.
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

    /**
     * Non-blocking frames to {@code to} and from {@code from} for one algorithm run; no other call
     * on the link until it is closed.
     */
    Duplex duplex(int to, int from) throws IOException;

    /** Records the failure of an algorithm-driven transfer, closes the link, and returns the error to throw. */
    CollectiveException fail(String reason, Throwable cause);

    @Override
    void close();

    /** Frames to one peer and from another, moved without blocking. */
    interface Duplex extends AutoCloseable {
        /** Moves what the link takes now of {@code frame}; the bytes moved (0 when it takes none). */
        long send(Frame.Out frame) throws IOException;

        /**
         * Moves what has arrived of {@code frame}, checking its header on the way; the bytes moved.
         *
         * @throws java.io.EOFException when the peer closed the link
         */
        long receive(Frame.In frame) throws IOException;

        /** Waits at most {@code millis} until a send or a receive (as asked) could move bytes. */
        void await(boolean send, boolean receive, long millis) throws IOException;

        @Override
        void close() throws IOException;
    }
}
