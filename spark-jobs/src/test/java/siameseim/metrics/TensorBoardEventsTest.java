package siameseim.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.testing.TensorBoardFiles;

public class TensorBoardEventsTest {

    @Test
    void scalarsRoundTripWithValidChecksums() throws Exception {
        byte[] f = TensorBoardEvents.file(List.of(new TensorBoardEvents.Scalar("train/loss", 1, 100.5, 1.25f),
                new TensorBoardEvents.Scalar("train/lr", 300, 101.0, 1e-3f)), 100.0);
        List<TensorBoardFiles.Event> e = TensorBoardFiles.read(f);
        assertEquals(3, e.size());
        assertEquals("brain.Event:2", e.get(0).fileVersion());
        assertEquals(new TensorBoardFiles.Event(100.5, 1, null, "train/loss", 1.25f), e.get(1));
        assertEquals(new TensorBoardFiles.Event(101.0, 300, null, "train/lr", 1e-3f), e.get(2));
        // the reference value of TensorFlow's masked CRC32C of an empty payload
        assertEquals(0xa282ead8, TensorBoardEvents.maskedCrc(new byte[0]));
        f[f.length - 6] ^= 1;
        assertThrows(IOException.class, () -> TensorBoardFiles.read(f), "a flipped bit is caught by the CRC");
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
