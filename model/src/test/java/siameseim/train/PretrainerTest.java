package siameseim.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import siameseim.config.PretrainConfig;
import siameseim.model.nn.CrossReplicaMean;
import siameseim.model.nn.Param;
import siameseim.model.optim.GradientReducer;
import siameseim.batch.SiameseBatch;
import siameseim.train.SyntheticBatches;
import siameseim.testing.TestConfigs;
import siameseim.testing.TwinReplicas;

class PretrainerTest {

    @Test
    void demoConfigLossFallsClearlyOnAFixedBatchIn100Steps() {
        // demo architecture and optimiser; batch 64 keeps the test near half a minute on one thread
        PretrainConfig cfg = TestConfigs.demo("optim.batch-size=64", "optim.epochs=100", "optim.warmup-epochs=10");
        SiameseBatch batch = SyntheticBatches.batch(cfg, 64, 11);
        try (Pretrainer t = new Pretrainer(cfg, 1, GradientReducer.IDENTITY, CrossReplicaMean.SINGLE)) {
            double first = 0;
            double last = 0;
            for (int i = 0; i < 100; i++) {
                StepResult r = t.step(List.of(batch));
                assertTrue(Double.isFinite(r.loss()), "step " + i);
                if (i < 5) {
                    first += r.loss() / 5;
                }
                if (i >= 95) {
                    last += r.loss() / 5;
                }
            }
            System.out.printf("fixed batch: mean loss steps 0-4 = %.4f, steps 95-99 = %.4f%n", first, last);
            assertTrue(last < 0.5 * first, "loss " + first + " -> " + last);
        }
    }

    @Test
    void tenStepsStraightEqualFivePlusSaveLoadPlusFive() throws Exception {
        PretrainConfig cfg = TestConfigs.unit();
        List<SiameseBatch> batches = new java.util.ArrayList<>();
        for (int i = 0; i < 10; i++) {
            batches.add(SyntheticBatches.batch(cfg, 16, 100 + i));
        }
        Map<String, float[]> straight;
        try (Pretrainer t = new Pretrainer(cfg, 4, GradientReducer.IDENTITY, CrossReplicaMean.SINGLE)) {
            for (SiameseBatch b : batches) {
                t.step(List.of(b));
            }
            straight = snapshot(t);
        }
        byte[] ckpt;
        try (Pretrainer t = new Pretrainer(cfg, 4, GradientReducer.IDENTITY, CrossReplicaMean.SINGLE)) {
            for (int i = 0; i < 5; i++) {
                t.step(List.of(batches.get(i)));
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            t.save(out);
            ckpt = out.toByteArray();
        }
        PretrainConfig other = TestConfigs.unit("train.seed=99"); // different init: all state must come from the file
        try (Pretrainer t = new Pretrainer(other, 4, GradientReducer.IDENTITY, CrossReplicaMean.SINGLE)) {
            var progress = t.restore(new ByteArrayInputStream(ckpt), "memory");
            assertEquals(5, progress.step());
            assertEquals(Integer.toString(cfg.optim().batchSize()), progress.extra().get("global_batch"));
            for (int i = 5; i < 10; i++) {
                t.step(List.of(batches.get(i)));
            }
            Map<String, float[]> resumed = snapshot(t);
            assertEquals(straight.keySet(), resumed.keySet());
            for (String k : straight.keySet()) {
                float[] a = straight.get(k);
                float[] b = resumed.get(k);
                for (int i = 0; i < a.length; i++) {
                    assertEquals(a[i], b[i], 1e-6, k + "[" + i + "]");
                }
            }
        }
    }

    @Test
    void aCheckpointOfAnotherGlobalBatchIsRefusedNamingTheKey() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (Pretrainer t = new Pretrainer(TestConfigs.unit(), 4, GradientReducer.IDENTITY, CrossReplicaMean.SINGLE)) {
            t.save(out);
        }
        PretrainConfig doubled = TestConfigs.unit("optim.batch-size=32");
        try (Pretrainer t = new Pretrainer(doubled, 4, GradientReducer.IDENTITY, CrossReplicaMean.SINGLE)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> t.restore(new ByteArrayInputStream(out.toByteArray()), "ckpt-0"));
            assertTrue(e.getMessage().startsWith("ckpt-0 was written with a global batch of 16 images and this run"
                    + " has 32 (optim.batch-size)") && e.getMessage().contains("set optim.batch-size = 16"),
                    e.getMessage());
            assertEquals(0, t.step());
        }
    }

    @Test
    void gradientAccumulationMatchesOneLargeBatchWithLayerNormDecoder() {
        // with LayerNorm in the decoder there is no cross-sample statistic, so two half batches
        // accumulate exactly the gradient of the full batch (the correlation matrix excepted,
        // which is per micro-batch as in the reference); neg-weight 0 isolates that
        PretrainConfig cfg = TestConfigs.unit("model.decoder.norm=layer", "loss.neg-weight=0", "optim.accum-steps=2");
        PretrainConfig one = TestConfigs.unit("model.decoder.norm=layer", "loss.neg-weight=0");
        SiameseBatch a = SyntheticBatches.batch(cfg, 8, 5);
        SiameseBatch b = SyntheticBatches.batch(cfg, 8, 6);
        SiameseBatch ab = concat(a, b);
        Map<String, float[]> accum;
        try (Pretrainer t = new Pretrainer(cfg, 4, GradientReducer.IDENTITY, CrossReplicaMean.SINGLE)) {
            t.step(List.of(a, b));
            accum = snapshot(t);
        }
        try (Pretrainer t = new Pretrainer(one, 4, GradientReducer.IDENTITY, CrossReplicaMean.SINGLE)) {
            t.step(List.of(ab));
            Map<String, float[]> full = snapshot(t);
            for (String k : full.keySet()) {
                float[] x = full.get(k);
                float[] y = accum.get(k);
                for (int i = 0; i < x.length; i++) {
                    assertEquals(x[i], y[i], 2e-6, k + "[" + i + "]");
                }
            }
        }
    }

    /**
     * A long run must not accumulate tensors: DJL attaches an operation's result to its
     * receiver's manager, so an op called on a parameter (the model's manager) leaks one tensor
     * per call unless it is closed. Both reduction paths, one replica and two (stand-ins that
     * return this replica's own statistics and gradients).
     */
    @Test
    void stepsLeaveNoTensorsBehindInTheModelsManager() {
        PretrainConfig cfg = TestConfigs.unit();
        SiameseBatch batch = SyntheticBatches.batch(cfg, 16, 7);
        for (boolean cross : new boolean[] {false, true}) {
            try (Pretrainer t = new Pretrainer(cfg, 4, cross ? TwinReplicas.GRADIENTS : GradientReducer.IDENTITY,
                    cross ? TwinReplicas.STATISTICS : CrossReplicaMean.SINGLE)) {
                ai.djl.ndarray.NDManager model = t.model().namedParams().values().iterator().next().array()
                        .getManager();
                t.step(List.of(batch)); // first-step state (optimizer moments, scratch buffers) exists now
                int after1 = model.getManagedArrays().size();
                for (int i = 0; i < 3; i++) {
                    t.step(List.of(batch));
                }
                assertEquals(after1, model.getManagedArrays().size(),
                        (cross ? "cross-replica" : "one-replica") + " path: tensors left behind by 3 steps");
            }
        }
    }

    static SiameseBatch concat(SiameseBatch a, SiameseBatch b) {
        return new SiameseBatch(a.size() + b.size(), a.imageSize(), cat(a.view1(), b.view1()), cat(a.view2(), b.view2()),
                cat(a.visible(), b.visible()), a.visibleCount(), cat(a.geometry(), b.geometry()));
    }

    static float[] cat(float[] x, float[] y) {
        float[] o = java.util.Arrays.copyOf(x, x.length + y.length);
        System.arraycopy(y, 0, o, x.length, y.length);
        return o;
    }

    static long[] cat(long[] x, long[] y) {
        long[] o = java.util.Arrays.copyOf(x, x.length + y.length);
        System.arraycopy(y, 0, o, x.length, y.length);
        return o;
    }

    static Map<String, float[]> snapshot(Pretrainer t) {
        Map<String, float[]> out = new java.util.TreeMap<>();
        for (Map.Entry<String, Param> e : t.model().namedParams().entrySet()) {
            out.put(e.getKey(), e.getValue().array().toFloatArray());
        }
        t.optimizer().state().forEach((k, v) -> out.put("optimizer." + k, v.toFloatArray()));
        return out;
    }
}
