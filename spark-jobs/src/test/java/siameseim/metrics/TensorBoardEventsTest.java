package siameseim.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

public class TensorBoardEventsTest {

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

    @Test
    void scalarsRoundTripWithValidChecksums() throws Exception {
        byte[] f = TensorBoardEvents.file(List.of(new TensorBoardEvents.Scalar("train/loss", 1, 100.5, 1.25f),
                new TensorBoardEvents.Scalar("train/lr", 300, 101.0, 1e-3f)), 100.0);
        List<Event> e = read(f);
        assertEquals(3, e.size());
        assertEquals("brain.Event:2", e.get(0).fileVersion());
        assertEquals(new Event(100.5, 1, null, "train/loss", 1.25f), e.get(1));
        assertEquals(new Event(101.0, 300, null, "train/lr", 1e-3f), e.get(2));
        // the reference value of TensorFlow's masked CRC32C of an empty payload
        assertEquals(0xa282ead8, TensorBoardEvents.maskedCrc(new byte[0]));
        f[f.length - 6] ^= 1;
        assertThrows(IOException.class, () -> read(f), "a flipped bit is caught by the CRC");
    }

    @Test
    void historyDerivesThroughputAndPlotsArePngs(@TempDir Path tmp) throws Exception {
        MetricsHistory h = new MetricsHistory();
        for (int s = 1; s <= 5; s++) {
            h.add(siameseim.events.EventCodec.decode("{\"type\":\"step\",\"step\":" + s + ",\"loss\":" + (2.0 / s)
                    + ",\"lr\":0.001,\"images\":128,\"compute_ms\":90,\"allreduce_ms\":10,\"time\":" + (1000 + s * 0.5)
                    + "}"));
        }
        h.add(siameseim.events.EventCodec.decode("{\"type\":\"knn\",\"step\":5,\"top1\":0.5,\"top5\":0.9,"
                + "\"images\":100}"));
        assertEquals(1, h.series("eval/knn_top1").size());
        assertEquals(5, h.series("train/loss").size());
        assertEquals(256.0, h.series("train/images_per_second").get(0)[1], 1e-6, "128 images in 0.5 s");
        assertEquals(0.1, h.series("train/allreduce_share").get(0)[1], 1e-9);
        List<org.apache.hadoop.fs.Path> files = TrainingPlots.write(h, new Configuration(),
                new org.apache.hadoop.fs.Path(tmp.toString()), "test");
        assertEquals(5, files.size(), files.toString());
        for (org.apache.hadoop.fs.Path p : files) {
            byte[] png = Files.readAllBytes(Path.of(p.toUri().getPath()));
            assertTrue(png.length > 1000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', p.toString());
        }
    }
}
