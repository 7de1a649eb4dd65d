package siameseim.checkpoint;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import siameseim.model.io.Safetensors;
import siameseim.model.nn.CrossReplicaMean;
import siameseim.model.optim.GradientReducer;
import siameseim.train.SyntheticBatches;
import siameseim.testing.TestConfigs;
import siameseim.train.Pretrainer;

class CheckpointFormatTest {

    private static byte[] checkpoint() throws IOException {
        var cfg = TestConfigs.unit();
        try (Pretrainer t = new Pretrainer(cfg, 4, GradientReducer.IDENTITY, CrossReplicaMean.SINGLE)) {
            t.step(List.of(SyntheticBatches.batch(cfg, 8, 1)));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            t.save(out);
            return out.toByteArray();
        }
    }

    private static String restoreError(byte[] bytes, String... overrides) {
        var cfg = TestConfigs.unit(overrides);
        try (Pretrainer t = new Pretrainer(cfg, 4, GradientReducer.IDENTITY, CrossReplicaMean.SINGLE)) {
            Exception e = assertThrows(Exception.class, () -> t.restore(new ByteArrayInputStream(bytes), "ckpt-17"));
            return e.getMessage();
        }
    }

    @Test
    void otherArchitectureNamesTheDifferingKeys() throws IOException {
        String msg = restoreError(checkpoint(), "model.encoder.depth=3");
        assertTrue(msg.contains("ckpt-17") && msg.contains("model.encoder.depth = 2 in the checkpoint, 3 in this run"),
                msg);
    }

    @Test
    void truncatedFileIsReported() throws IOException {
        byte[] full = checkpoint();
        String msg = restoreError(Arrays.copyOf(full, full.length - 100));
        assertTrue(msg.contains("ckpt-17") && msg.contains("truncated"), msg);
    }

    @Test
    void flippedByteFailsTheChecksum() throws IOException {
        byte[] bytes = checkpoint();
        bytes[bytes.length - 3] ^= 0x40;
        String msg = restoreError(bytes);
        assertTrue(msg.contains("checksum mismatch") && msg.contains("ckpt-17"), msg);
    }

    @Test
    void plainSafetensorsIsNotACheckpoint() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.ones(new ai.djl.ndarray.types.Shape(2));
            Safetensors.write(out, Map.of("x", a), Map.of());
        }
        String msg = restoreError(out.toByteArray());
        assertTrue(msg.contains("not a siameseim checkpoint"), msg);
    }

    @Test
    void otherFormatVersionIsRefused() throws IOException {
        byte[] bytes = checkpoint();
        String text = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
        text = text.replace("\"version\":\"1\"", "\"version\":\"9\"");
        String msg = restoreError(text.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertTrue(msg.contains("version 9"), msg);
    }

    @Test
    void garbageIsRefused() {
        String msg = restoreError(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
        assertTrue(msg.contains("ckpt-17") && msg.contains("not a safetensors file"), msg);
    }
}
