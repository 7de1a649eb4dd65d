package siameseim.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import siameseim.metrics.TensorBoardEvents;

/** Reads TensorBoard event files back (records, protobuf fields) for the metrics tests. */
public final class TensorBoardFiles {
    private TensorBoardFiles() {}

    /** A decoded event: wall time, step, file_version or (tag, value). */
    public record Event(double wallTime, long step, String fileVersion, String tag, float value) {}

    /**
     * An independent TFRecord + Event reader, as TensorBoard's: every length and payload CRC is
     * checked (masked CRC32C), every protobuf field decoded by wire type.
     */
    public static List<Event> read(byte[] file) throws IOException {
        List<Event> out = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            byte[] lenBytes = new byte[8];
            b.get(lenBytes);
            int lenCrc = b.getInt();
            if (lenCrc != TensorBoardEvents.maskedCrc(lenBytes)) {
                throw new IOException("length CRC mismatch at " + (b.position() - 12));
            }
            long len = ByteBuffer.wrap(lenBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
            byte[] data = new byte[(int) len];
            b.get(data);
            if (b.getInt() != TensorBoardEvents.maskedCrc(data)) {
                throw new IOException("data CRC mismatch");
            }
            out.add(event(ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN)));
        }
        return out;
    }

    static Event event(ByteBuffer d) throws IOException {
        double wall = 0;
        long step = 0;
        String version = null;
        String tag = null;
        float value = Float.NaN;
        while (d.hasRemaining()) {
            long key = varint(d);
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            if (field == 1 && wire == 1) {
                wall = d.getDouble();
            } else if (field == 2 && wire == 0) {
                step = varint(d);
            } else if (field == 3 && wire == 2) {
                version = new String(bytes(d), StandardCharsets.UTF_8);
            } else if (field == 5 && wire == 2) {
                ByteBuffer summary = ByteBuffer.wrap(bytes(d)).order(ByteOrder.LITTLE_ENDIAN);
                assertEquals(0x0a, summary.get(), "Summary.value");
                ByteBuffer v = ByteBuffer.wrap(bytes(summary)).order(ByteOrder.LITTLE_ENDIAN);
                while (v.hasRemaining()) {
                    long k = varint(v);
                    if (k == 0x0a) {
                        tag = new String(bytes(v), StandardCharsets.UTF_8);
                    } else if (k == 0x15) {
                        value = v.getFloat();
                    } else {
                        throw new IOException("unexpected Value field " + k);
                    }
                }
            } else {
                throw new IOException("unexpected Event field " + field + " wire " + wire);
            }
        }
        return new Event(wall, step, version, tag, value);
    }

    static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[(int) varint(b)];
        b.get(out);
        return out;
    }

    static long varint(ByteBuffer b) {
        long v = 0;
        for (int shift = 0;; shift += 7) {
            int x = b.get() & 0xff;
            v |= (long) (x & 0x7f) << shift;
            if ((x & 0x80) == 0) {
                return v;
            }
        }
    }
}
