package siameseim.metrics;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * TensorBoard event files: TFRecord framing (length, masked CRC32C of the length, an
 * {@code Event} protobuf, masked CRC32C of the data) holding scalar summaries. Written by hand
 * because the format is four protobuf fields and TensorFlow's Java library would add hundreds of
 * megabytes of natives; TensorBoard reads every {@code *tfevents*} file of a folder, so each
 * checkpoint interval is one new file (object stores have no append).
 */
public final class TensorBoardEvents {
    private TensorBoardEvents() {}

    /** One scalar at a step. */
    public record Scalar(String tag, long step, double wallTime, float value) {}

    /** A complete event file: the file-version event, then one event per scalar. */
    public static byte[] file(List<Scalar> scalars, double wallTime) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        record(out, event(wallTime, 0, "brain.Event:2", null));
        for (Scalar s : scalars) {
            record(out, event(s.wallTime(), s.step(), null, summary(s.tag(), s.value())));
        }
        return out.toByteArray();
    }

    /** TFRecord framing. */
    static void record(ByteArrayOutputStream out, byte[] data) {
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(data.length);
        out.writeBytes(len.array());
        out.writeBytes(le32(maskedCrc(len.array())));
        out.writeBytes(data);
        out.writeBytes(le32(maskedCrc(data)));
    }

    /** TensorFlow's masked CRC32C: rotate right by 15 bits, add 0xa282ead8. */
    public static int maskedCrc(byte[] data) {
        CRC32C c = new CRC32C();
        c.update(data);
        int crc = (int) c.getValue();
        return ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
    }

    /** Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; } */
    static byte[] event(double wallTime, long step, String fileVersion, byte[] summary) {
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        e.write(0x09);
        e.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(wallTime).array());
        if (step != 0) {
            e.write(0x10);
            varint(e, step);
        }
        if (fileVersion != null) {
            bytesField(e, 0x1a, fileVersion.getBytes(StandardCharsets.UTF_8));
        }
        if (summary != null) {
            bytesField(e, 0x2a, summary);
        }
        return e.toByteArray();
    }

    /** Summary { repeated Value value = 1; } with Value { string tag = 1; float simple_value = 2; } */
    static byte[] summary(String tag, float value) {
        ByteArrayOutputStream v = new ByteArrayOutputStream();
        bytesField(v, 0x0a, tag.getBytes(StandardCharsets.UTF_8));
        v.write(0x15);
        v.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(value).array());
        ByteArrayOutputStream s = new ByteArrayOutputStream();
        bytesField(s, 0x0a, v.toByteArray());
        return s.toByteArray();
    }

    private static void bytesField(ByteArrayOutputStream out, int tag, byte[] bytes) {
        out.write(tag);
        varint(out, bytes.length);
        out.writeBytes(bytes);
    }

    private static void varint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    private static byte[] le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }
}
