package siameseim.collective;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The one frame format of the collective's links: a 12-byte header (operation id, sequence
 * number within the operation, payload length; big-endian ints) before each payload. Every
 * receiver knows which frame comes next and checks all three fields, so a frame of another
 * operation, a lost or repeated frame, or a length that does not fit is an error, never data.
 * {@link Out} and {@link In} are one frame on its way, moved in as many pieces as the transport
 * takes (a socket, a pipe, a shared-memory ring).
 */
final class Frame {
    static final int HEADER = 12;
    static final int MAX_PAYLOAD = 1 << 30;

    private Frame() {}

    /** A frame to send: the header, then the payload (position..limit). */
    static final class Out {
        final ByteBuffer header;
        final ByteBuffer payload;
        /** Both, for a gathering write. */
        final ByteBuffer[] parts;

        Out(int op, int seq, ByteBuffer payload) {
            this.header = ByteBuffer.allocate(HEADER);
            header.putInt(op).putInt(seq).putInt(payload.remaining()).flip();
            this.payload = payload;
            this.parts = new ByteBuffer[] {header, payload};
        }

        /** Where the next bytes come from: the header, then the payload. */
        ByteBuffer source() {
            return header.hasRemaining() ? header : payload;
        }

        boolean done() {
            return !header.hasRemaining() && !payload.hasRemaining();
        }
    }

    /** The frame a receiver expects next, landing in {@code payload}, which it must fill exactly. */
    static final class In {
        private final int op;
        private final int seq;
        private final ByteBuffer header = ByteBuffer.allocate(HEADER);
        private final ByteBuffer payload;
        private boolean checked;

        In(int op, int seq, ByteBuffer payload) {
            this.op = op;
            this.seq = seq;
            this.payload = payload;
        }

        /** Where the next bytes go: the header, then (once it is checked) the payload. */
        ByteBuffer target() {
            return header.hasRemaining() ? header : payload;
        }

        /**
         * To call after bytes arrived: checks the header as soon as it is complete.
         *
         * @throws Malformed when it is not the frame expected, naming {@code from}
         */
        void arrived(Peer from) throws Malformed {
            if (!checked && !header.hasRemaining()) {
                checked = true;
                String wrong = mismatch(header.duplicate().flip(), op, seq, payload.remaining());
                if (wrong != null) {
                    throw new Malformed("malformed frame from " + from + ": " + wrong);
                }
            }
        }

        boolean done() {
            return checked && !payload.hasRemaining();
        }
    }

    /** A frame that is not the one expected: the connection's stream can no longer be trusted. */
    static final class Malformed extends IOException {
        Malformed(String message) {
            super(message);
        }
    }

    /**
     * Checks a received header (flipped, {@link #HEADER} bytes) against the frame expected next.
     *
     * @return null when it is that frame, else what is wrong, for the error message
     */
    static String mismatch(ByteBuffer header, int op, int seq, int length) {
        int gotOp = header.getInt(0);
        int gotSeq = header.getInt(4);
        int gotLen = header.getInt(8);
        if (gotOp == op && gotSeq == seq && gotLen == length && gotLen >= 0 && gotLen <= MAX_PAYLOAD) {
            return null;
        }
        return "op " + gotOp + " seq " + gotSeq + " length " + gotLen + ", expected op " + op + " seq " + seq
                + " length " + length;
    }
}
