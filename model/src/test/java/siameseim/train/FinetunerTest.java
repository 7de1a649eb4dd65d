package siameseim.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import siameseim.batch.LabelledBatch;
import siameseim.config.PretrainConfig;
import siameseim.model.io.Safetensors;
import siameseim.model.nn.Param;
import siameseim.model.nn.Torch;
import siameseim.model.optim.GradientReducer;
import siameseim.model.vit.VitClassifier;
import siameseim.testing.TestConfigs;

class FinetunerTest {

    static PretrainConfig cfg(String... more) {
        String[] base = {"finetune.batch-size=8", "finetune.epochs=4", "finetune.warmup-epochs=1",
            "finetune.base-lr=0.5", "distributed.replicas=1"};
        String[] all = new String[base.length + more.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return TestConfigs.unit(all);
    }

    static Finetuner trainer(PretrainConfig c, int classes) {
        return trainer(c, classes, MixedPrecision.fp32());
    }

    static Finetuner trainer(PretrainConfig c, int classes, MixedPrecision precision) {
        Torch.init(1);
        return new Finetuner(c.finetune(), c.model(), classes, List.of(), c.train().seed(), 0, 2,
                GradientReducer.IDENTITY, null, c.json(), precision);
    }

    /** Class c: a constant image of brightness c (easy to separate), one-hot targets. */
    static LabelledBatch batch(int n, int classes, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int px = 3 * 16 * 16;
        float[] x = new float[n * px];
        float[] t = new float[n * classes];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % classes;
            t[i * classes + y[i]] = 1;
            for (int p = 0; p < px; p++) {
                x[i * px + p] = (float) (y[i] - 1 + 0.1 * rng.nextGaussian());
            }
        }
        return new LabelledBatch(n, 16, x, t, classes, y);
    }

    static float[] flat(Finetuner t) {
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        for (Param p : t.model().namedParams().values()) {
            java.nio.ByteBuffer b = Safetensors.hostBytes(p.array());
            byte[] a = new byte[b.remaining()];
            b.get(a);
            all.writeBytes(a);
        }
        java.nio.FloatBuffer f = java.nio.ByteBuffer.wrap(all.toByteArray()).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .asFloatBuffer();
        float[] out = new float[f.remaining()];
        f.get(out);
        return out;
    }

    @Test
    void layerDecayFollowsTheSpec() {
        // spec 5.2 for ViT-B: 0.65^(13 - id); id 0 embeddings, k + 1 block k, 13 the head
        assertEquals(Math.pow(0.65, 13), VitClassifier.layerScale("cls_token", 12, 0.65), 1e-15);
        assertEquals(Math.pow(0.65, 13), VitClassifier.layerScale("patch_embed.proj.weight", 12, 0.65), 1e-15);
        assertEquals(Math.pow(0.65, 12), VitClassifier.layerScale("blocks.0.attn.qkv.weight", 12, 0.65), 1e-15);
        assertEquals(0.65, VitClassifier.layerScale("blocks.11.mlp.fc2.bias", 12, 0.65), 1e-15);
        assertEquals(1.0, VitClassifier.layerScale("head.weight", 12, 0.65));
        assertEquals(1.0, VitClassifier.layerScale("fc_norm.bias", 12, 0.65));
        assertEquals(0.0037, Math.pow(0.65, 13), 1e-4, "the spec's quoted multiplier for id 0");
    }

    @Test
    void headAndDecayRulesMatchTimm() {
        try (Finetuner t = trainer(cfg(), 3)) {
            Map<String, Param> p = t.model().namedParams();
            assertTrue(p.containsKey("fc_norm.weight") && p.containsKey("head.weight") && p.containsKey("blocks.1.norm2.bias"));
            assertFalse(p.get("pos_embed").trainable(), "fixed sin-cos positions stay frozen");
            assertTrue(p.get("patch_embed.proj.weight").trainable(), "patch_embed is trained when fine-tuning");
            float[] head = p.get("head.weight").array().toFloatArray();
            double sq = 0;
            for (float v : head) {
                sq += v * v;
                assertTrue(Math.abs(v) <= 4e-5 + 1e-9, "trunc-normal(2e-5) within 2 std");
            }
            assertTrue(Math.sqrt(sq / head.length) > 5e-6, "head initialised, not zero");
            List<String> decayed = t.optimizer().decayed();
            assertTrue(decayed.contains("head.weight") && decayed.contains("blocks.0.attn.qkv.weight"));
            assertFalse(decayed.contains("cls_token") || decayed.contains("head.bias")
                    || decayed.contains("fc_norm.weight"), decayed.toString());
        }
    }

    @Test
    void softTargetCrossEntropyAndHits() {
        Torch.init(1);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray logits = m.create(new float[] {2, 0, 0, 1, 3, 0}, new Shape(2, 3));
            NDArray targets = m.create(new float[] {0.9f, 0.05f, 0.05f, 0, 0.5f, 0.5f}, new Shape(2, 3));
            double l0 = -(0.9 * logSoftmax(new double[] {2, 0, 0}, 0) + 0.05 * logSoftmax(new double[] {2, 0, 0}, 1)
                    + 0.05 * logSoftmax(new double[] {2, 0, 0}, 2));
            double l1 = -(0.5 * logSoftmax(new double[] {1, 3, 0}, 1) + 0.5 * logSoftmax(new double[] {1, 3, 0}, 2));
            assertEquals((l0 + l1) / 2, Finetuner.softTargetCrossEntropy(logits, targets).getFloat(), 1e-5);
            assertArrayEquals(new long[] {1, 2}, Finetuner.hits(logits, new int[] {0, 2}),
                    "row 0 top-1 hit; row 1's label is third of three, inside top-5");
        }
    }

    static double logSoftmax(double[] z, int i) {
        double s = 0;
        for (double v : z) {
            s += Math.exp(v);
        }
        return z[i] - Math.log(s);
    }

    @Test
    void learnsAnEasyTaskAndResumesExactly() throws Exception {
        PretrainConfig c = cfg("finetune.drop-path=0.1");
        float[] uninterrupted;
        double first;
        double last = 0;
        try (Finetuner t = trainer(c, 3)) {
            first = t.step(List.of(batch(8, 3, 0))).loss();
            for (int s = 1; s < 8; s++) {
                last = t.step(List.of(batch(8, 3, s))).loss();
            }
            long[] hits = t.evaluate(batch(9, 3, 99).images(), 16, batch(9, 3, 99).labels());
            assertEquals(9, hits[0], "brightness classes are learnt: loss " + first + " -> " + last);
            uninterrupted = flat(t);
        }
        assertTrue(last < first * 0.5, "loss " + first + " -> " + last);
        ByteArrayOutputStream ckpt = new ByteArrayOutputStream();
        try (Finetuner t = trainer(c, 3)) {
            for (int s = 0; s < 3; s++) {
                t.step(List.of(batch(8, 3, s)));
            }
            t.save(ckpt);
        }
        try (Finetuner t = trainer(c, 3)) {
            t.restore(new ByteArrayInputStream(ckpt.toByteArray()), "mem");
            assertEquals(3, t.step());
            for (int s = 3; s < 8; s++) {
                t.step(List.of(batch(8, 3, s)));
            }
            assertArrayEquals(uninterrupted, flat(t), "drop path, lr schedule and moments resume exactly");
        }
        try (Finetuner t = trainer(c, 4)) {
            Exception e = assertThrows(IllegalArgumentException.class,
                    () -> t.restore(new ByteArrayInputStream(ckpt.toByteArray()), "mem"));
            assertTrue(e.getMessage().contains("model.classes = 3 in the checkpoint, 4 in this run"), e.getMessage());
        }
    }

    /** Steps and evaluations leave no tensors in the model's manager (see PretrainerTest). */
    @Test
    void stepsAndEvaluationsLeaveNoTensorsBehindInTheModelsManager() {
        try (Finetuner t = trainer(cfg("finetune.drop-path=0.1"), 3)) {
            ai.djl.ndarray.NDManager model = t.model().namedParams().values().iterator().next().array().getManager();
            t.step(List.of(batch(8, 3, 0)));
            t.evaluate(batch(9, 3, 99).images(), 16, batch(9, 3, 99).labels());
            int after1 = model.getManagedArrays().size();
            for (int s = 1; s < 4; s++) {
                t.step(List.of(batch(8, 3, s)));
                t.evaluate(batch(9, 3, 99).images(), 16, batch(9, 3, 99).labels());
            }
            assertEquals(after1, model.getManagedArrays().size(), "tensors left behind by 3 steps and evaluations");
        }
    }
}
