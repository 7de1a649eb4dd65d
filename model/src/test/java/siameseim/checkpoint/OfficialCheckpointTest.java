package siameseim.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.File;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.config.PretrainConfig;
import siameseim.model.io.Safetensors;
import siameseim.model.io.StateDict;
import siameseim.model.nn.CrossReplicaMean;
import siameseim.model.optim.GradientReducer;
import siameseim.testing.TestConfigs;
import siameseim.train.Pretrainer;

/**
 * The official code's own training checkpoint ({@code save_model} of a demo-sized model, written
 * by PyTorch: model/src/test/resources/torch/generate.py) imported and restored through our resume
 * path: every weight and target tensor as PyTorch saved it, every AdamW moment under the name
 * PyTorch's optimizer held it for (the generator wrote them by parameter object, not by group
 * order), the optimizer's step, and the run's step after the saved epoch.
 */
class OfficialCheckpointTest {
    static final String DIR = new File("src/test/resources/torch/").getAbsolutePath() + "/";

    static PretrainConfig cfg() {
        return TestConfigs.unit("model.encoder.width=16", "model.decoder.width=16",
                "model.decoder.predictor-depth=2");
    }

    @Test
    void officialTrainingCheckpointResumesWithWeightsTargetMomentsAndStep(@TempDir File tmp) throws Exception {
        Configuration conf = new Configuration();
        String source = DIR + "official-checkpoint-5.pth";
        assertTrue(OfficialCheckpoint.isTorch(conf, source));
        OfficialCheckpoint.Imported imported = OfficialCheckpoint.importSeed(conf, source, cfg(), 3,
                new Path(tmp.getPath()));
        assertEquals(18, imported.step(), "epoch 5 saved: 6 epochs of 3 steps done");
        assertEquals(1, imported.optimizerSteps(), "the generator took one AdamW step");
        try (NDManager m = NDManager.newBaseManager();
                Pretrainer t = new Pretrainer(cfg(), 3, GradientReducer.IDENTITY, CrossReplicaMean.SINGLE)) {
            try (InputStream in = Files.newInputStream(new File(imported.path().replace("file:", "")).toPath())) {
                CheckpointFormat.Progress p = t.restore(in, imported.path());
                assertEquals(18, p.step());
                // the official GradScaler's state, for an fp16-mixed run
                assertEquals("32768.0", p.extra().get("loss_scale"));
                assertEquals("17", p.extra().get("loss_scale_growth_tracker"));
                assertEquals("16", p.extra().get("global_batch"));
            }
            assertEquals(18, t.step());
            Map<String, NDArray> expected;
            try (InputStream in = Files.newInputStream(new File(DIR + "official-checkpoint-5.expected.safetensors")
                    .toPath())) {
                expected = Safetensors.read(in, m, "expected").tensors();
            }
            Map<String, NDArray> ours = StateDict.of(t.model(), n -> true);
            assertEquals(ours.keySet(), expected.keySet(), "every tensor of the official model, none else");
            for (Map.Entry<String, NDArray> e : expected.entrySet()) {
                assertArrayEquals(e.getValue().toFloatArray(), ours.get(e.getKey()).toFloatArray(), 0f, e.getKey());
            }
            Map<String, NDArray> moments;
            try (InputStream in = Files.newInputStream(new File(DIR + "official-checkpoint-5.moments.safetensors")
                    .toPath())) {
                moments = Safetensors.read(in, m, "moments").tensors();
            }
            Map<String, NDArray> state = t.optimizer().state();
            assertEquals(state.keySet(), moments.keySet(), "moments of exactly the trainable parameters");
            for (Map.Entry<String, NDArray> e : moments.entrySet()) {
                assertArrayEquals(e.getValue().toFloatArray(), state.get(e.getKey()).toFloatArray(), 0f, e.getKey());
            }
            assertEquals(1, t.optimizer().steps());
        }
    }

    @Test
    void theReleasedFormHasNoOptimizerAndIsSentToWeights(@TempDir File tmp) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OfficialCheckpoint.importSeed(
                new Configuration(), DIR + "release-pretrain.pth", cfg(), 3, new Path(tmp.getPath())));
        assertTrue(e.getMessage().contains("--weights"), e.getMessage());
    }
}
