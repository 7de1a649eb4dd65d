package siameseim.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import siameseim.checkpoint.Encoders;
import siameseim.config.ModelConfig;
import siameseim.model.nn.Torch;
import siameseim.model.vit.VisionTransformer;
import siameseim.model.vit.VitClassifier;
import siameseim.testing.TestConfigs;

/**
 * torch.save files written by real PyTorch (src/test/resources/torch/generate.py: the official
 * SiameseIM save_model, the released and fine-tuned forms, MAE, timm, Hugging Face, fp16, bf16,
 * views into shared storages) read back equal to what PyTorch itself loads from them.
 */
class TorchZipTest {
    static final Configuration CONF = new Configuration();

    static {
        Torch.init();
    }

    /** The fixtures' architecture: 16 px, patch 4, width 16, depth 2, heads 2. */
    static ModelConfig arch() {
        return TestConfigs.unit("model.encoder.width=16", "model.decoder.width=16").model();
    }

    static String fixture(String name) {
        return new File("src/test/resources/torch/" + name).getAbsolutePath();
    }

    @ParameterizedTest
    @ValueSource(strings = {"official-checkpoint-5", "release-pretrain", "release-pretrain-fp16",
        "release-pretrain-bf16", "official-finetuned-99", "mae-pretrain", "timm-bare", "hf-pytorch_model", "views"})
    void everyFloatTensorEqualsWhatPyTorchLoads(String name) throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> expected;
            try (InputStream in = Files.newInputStream(new File(fixture(name + ".expected.safetensors")).toPath())) {
                expected = Safetensors.read(in, m, name).tensors();
            }
            Map<String, NDArray> got;
            try (WeightsFile f = WeightsFile.open(fixture(name + ".pth"), CONF)) {
                assertTrue(f.isTorch());
                got = f.read(n -> true, m);
            }
            assertEquals(List.copyOf(expected.keySet()), List.copyOf(got.keySet()), "names, in state-dict order");
            for (Map.Entry<String, NDArray> e : expected.entrySet()) {
                NDArray g = got.get(e.getKey());
                assertEquals(DataType.FLOAT32, g.getDataType());
                assertEquals(e.getValue().getShape(), g.getShape(), e.getKey());
                assertArrayEquals(e.getValue().toFloatArray(), g.toFloatArray(), 0f, e.getKey());
            }
        }
    }

    @Test
    void officialCheckpointListsItsIntegerBuffersButReadsOnlyFloats() throws IOException {
        try (WeightsFile f = WeightsFile.open(fixture("official-checkpoint-5.pth"), CONF);
                NDManager m = NDManager.newBaseManager()) {
            WeightsFile.Tensor counter = f.tensor("projector_decoder_blocks.0.norm1.bn.num_batches_tracked");
            assertNotNull(counter);
            assertEquals(DataType.INT64, counter.dtype());
            assertFalse(counter.floating());
            assertNotNull(f.tensor("mm_blocks.1.mlp.fc2.weight"));
            assertEquals(5, f.torch().get("epoch"));
            assertTrue(f.torch().get("optimizer") instanceof Map<?, ?>);
            Map<String, NDArray> read = f.read(n -> n.contains("num_batches_tracked") || n.equals("cls_token"), m);
            assertEquals(List.of("cls_token"), List.copyOf(read.keySet()));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"official-checkpoint-5", "release-pretrain", "release-pretrain-fp16",
        "release-pretrain-bf16", "official-finetuned-99", "mae-pretrain", "timm-bare", "hf-pytorch_model", "views"})
    void loadsAsAnEncoderWhereverWeightsAreTaken(String name) throws IOException {
        String path = fixture(name + ".pth");
        Encoders.check(arch(), path, CONF);
        try (NDManager m = NDManager.newBaseManager()) {
            VisionTransformer enc = Encoders.load(m, arch(), path, 0, CONF);
            Map<String, NDArray> expected;
            try (InputStream in = Files.newInputStream(new File(fixture(name + ".expected.safetensors")).toPath())) {
                expected = Safetensors.read(in, m, name).tensors();
            }
            String block = name.startsWith("hf") ? "vit.encoder.layer.1.output.dense.weight" : "blocks.1.mlp.fc2.weight";
            assertArrayEquals(expected.get(block).toFloatArray(),
                    StateDict.of(enc, n -> true).get("blocks.1.mlp.fc2.weight").toFloatArray(), 0f);
        }
    }

    @Test
    void fineTuningTakesTheOfficialHeadOnlyWhenTheClassCountMatches() throws IOException {
        String path = fixture("official-finetuned-99.pth");
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> expected;
            try (InputStream in = Files.newInputStream(new File(fixture("official-finetuned-99.expected.safetensors")).toPath())) {
                expected = Safetensors.read(in, m, "expected").tensors();
            }
            VitClassifier ten = new VitClassifier(m, arch(), 10, 0, 0);
            assertTrue(Encoders.loadForFinetuning(ten, path, CONF));
            Map<String, NDArray> got = StateDict.of(ten, n -> true);
            for (String n : List.of("head.weight", "head.bias", "fc_norm.weight", "blocks.0.attn.qkv.weight")) {
                assertArrayEquals(expected.get(n).toFloatArray(), got.get(n).toFloatArray(), 0f, n);
            }
            VitClassifier five = new VitClassifier(m, arch(), 5, 0, 0);
            float[] fresh = StateDict.of(five, n -> true).get("head.weight").toFloatArray();
            assertFalse(Encoders.loadForFinetuning(five, path, CONF));
            assertArrayEquals(fresh, StateDict.of(five, n -> true).get("head.weight").toFloatArray(), 0f);
            assertArrayEquals(expected.get("blocks.1.mlp.fc1.bias").toFloatArray(),
                    StateDict.of(five, n -> true).get("blocks.1.mlp.fc1.bias").toFloatArray(), 0f);
        }
    }

    @Test
    void legacyAndTorchScriptFilesAreRefusedInOneLineSayingHowToResave() {
        IOException legacy = assertThrows(IOException.class, () -> Encoders.check(arch(), fixture("legacy-1.5.pth"), CONF));
        assertTrue(legacy.getMessage().contains("legacy format of PyTorch before 1.6"), legacy.getMessage());
        assertTrue(legacy.getMessage().contains("torch.save(torch.load("), legacy.getMessage());
        IOException script = assertThrows(IOException.class, () -> Encoders.check(arch(), fixture("torchscript.pt"), CONF));
        assertTrue(script.getMessage().contains("TorchScript archive"), script.getMessage());
        assertFalse(legacy.getMessage().contains("\n") || script.getMessage().contains("\n"));
    }

    @Test
    void whatWeWriteReadsBackBitForBit(@TempDir File dir) throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            VisionTransformer enc = new VisionTransformer(m, new SplittableRandom(3), arch(), "", null);
            Map<String, NDArray> tensors = new LinkedHashMap<>(StateDict.of(enc, n -> true));
            tensors.put("scalar", m.create(2.5f));
            tensors.put("empty", m.create(new float[0], new Shape(0, 4)));
            File out = new File(dir, "encoder.pth");
            try (OutputStream o = Files.newOutputStream(out.toPath())) {
                TorchZip.write(o, tensors);
            }
            try (WeightsFile f = WeightsFile.open(out.getPath(), CONF)) {
                Map<String, NDArray> back = f.read(n -> true, m);
                assertEquals(List.copyOf(tensors.keySet()), List.copyOf(back.keySet()));
                for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
                    assertEquals(e.getValue().getShape(), back.get(e.getKey()).getShape());
                    assertArrayEquals(e.getValue().toFloatArray(), back.get(e.getKey()).toFloatArray(), 0f);
                }
            }
        }
    }
}
