package siameseim.collective;

import java.nio.ByteBuffer;

/**
 * The one frame format of the collective's links: a 12-byte header (operation id, sequence
 * number within the operation, payload length; big-endian ints) before each payload. Every
 * receiver knows which frame comes next and checks all three fields, so a frame of another
 * operation, a lost or repeated frame, or a length that does not fit is an error, never data.
 */
final class Frame {
    static final int HEADER = 12;
    static final int MAX_PAYLOAD = 1 << 30;

    private Frame() {}

    /** A header ready to write (position 0, limit {@link #HEADER}). */
    static ByteBuffer header(int op, int seq, int length) {
        ByteBuffer h = ByteBuffer.allocate(HEADER);
        h.putInt(op).putInt(seq).putInt(length).flip();
        return h;
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
