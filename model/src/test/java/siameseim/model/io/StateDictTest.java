package siameseim.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import siameseim.config.PretrainConfig;
import siameseim.model.nn.Torch;
import siameseim.model.siameseim.SiameseInputs;
import siameseim.model.siameseim.SiameseIM;
import siameseim.testing.TestConfigs;
import siameseim.train.SyntheticBatches;

/** The whole model exported and imported under the official state_dict names. */
class StateDictTest {

    @Test
    void exportImportRoundTripGivesIdenticalOutputs() throws Exception {
        Torch.init(1);
        PretrainConfig cfg = TestConfigs.unit();
        try (NDManager m = NDManager.newBaseManager()) {
            SiameseIM a = new SiameseIM(m, cfg.model(), cfg.negWeight(), 1);
            SiameseIM b = new SiameseIM(m, cfg.model(), cfg.negWeight(), 2);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Safetensors.write(out, StateDict.of(a, n -> true), Map.of());
            var loaded = Safetensors.read(new ByteArrayInputStream(out.toByteArray()), m, "export");
            assertTrue(loaded.tensors().containsKey("blocks.1.attn.qkv.weight"));
            assertTrue(loaded.tensors().containsKey("mm_projector_decoder_blocks.0.norm2.bn.running_var"));
            StateDict.load(b, loaded.tensors(), n -> true, "export");
            SiameseInputs x = SiameseInputs.of(SyntheticBatches.batch(cfg, 4, 3), m);
            NDArray pa = a.predict(x.view1(), x.visible(), x.geometry(), false);
            NDArray pb = b.predict(x.view1(), x.visible(), x.geometry(), false);
            assertArrayEquals(pa.toFloatArray(), pb.toFloatArray());
            assertArrayEquals(a.targetTokens(x.view2()).toFloatArray(), b.targetTokens(x.view2()).toFloatArray());
        }
    }

    @Test
    void wrongNamesAndShapesAreListed() {
        Torch.init(1);
        PretrainConfig cfg = TestConfigs.unit();
        try (NDManager m = NDManager.newBaseManager()) {
            SiameseIM model = new SiameseIM(m, cfg.model(), cfg.negWeight(), 1);
            Map<String, NDArray> tensors = new LinkedHashMap<>(StateDict.of(model, n -> true));
            tensors.remove("blocks.0.norm1.bias");
            tensors.put("blocks.0.attn.qkv.weight", m.zeros(new ai.djl.ndarray.types.Shape(5, 5)));
            tensors.put("head.weight", m.zeros(new ai.djl.ndarray.types.Shape(2)));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> StateDict.load(model, tensors, n -> true, "weights.safetensors"));
            String msg = e.getMessage();
            assertTrue(msg.contains("weights.safetensors") && msg.contains("missing tensors: blocks.0.norm1.bias")
                    && msg.contains("unknown tensors: head.weight")
                    && msg.contains("blocks.0.attn.qkv.weight (5, 5) (model expects (96, 32))"), msg);
        }
    }
}
