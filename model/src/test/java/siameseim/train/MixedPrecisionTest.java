package siameseim.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import siameseim.batch.LabelledBatch;
import siameseim.batch.SiameseBatch;
import siameseim.config.PretrainConfig;
import siameseim.model.nn.Autocast;
import siameseim.model.nn.CrossReplicaMean;
import siameseim.model.nn.Torch;
import siameseim.model.optim.GradientReducer;
import siameseim.testing.TestConfigs;

/**
 * fp16 mixed precision on the CPU, where the same calls as on a GPU run with device type CPU:
 * autocast is on only inside a forward pass and only in its thread, the loss scaler follows
 * GradScaler's rules, an overflow skips the step, the scale is in the checkpoint, and a step
 * lands within fp16's tolerances of the fp32 one. (fp16 on a CPU is slower than fp32: no fp16
 * units; the value is on GPUs.)
 */
class MixedPrecisionTest {

    static DataType linearType(NDManager m) {
        NDArray x = m.ones(new Shape(2, 8));
        NDArray w = m.ones(new Shape(4, 8));
        return x.getNDArrayInternal().linear(x, w, null).singletonOrThrow().getDataType();
    }

    @Test
    void autocastIsOnOnlyInsideTheForwardPassAndOnlyInItsThread() throws Exception {
        Torch.init(1);
        MixedPrecision fp16 = MixedPrecision.fp16(null);
        try (NDManager m = NDManager.newBaseManager()) {
            assertEquals(DataType.FLOAT32, linearType(m));
            AtomicReference<DataType> other = new AtomicReference<>();
            DataType inside = fp16.forward(() -> {
                Thread t = new Thread(() -> {
                    try (NDManager om = NDManager.newBaseManager()) {
                        other.set(linearType(om));
                    }
                });
                t.start();
                try {
                    t.join();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return linearType(m);
            });
            assertEquals(DataType.FLOAT16, inside, "a linear layer under fp16-mixed");
            assertEquals(DataType.FLOAT32, other.get(), "another thread meanwhile: autocast is thread-local");
            assertEquals(DataType.FLOAT32, linearType(m), "after the forward pass");
            assertFalse(Autocast.isOn(null));
            assertEquals(DataType.FLOAT32, MixedPrecision.fp32().forward(() -> linearType(m)));
        }
    }

    @Test
    void theLossScaleFollowsGradScalersRules() {
        MixedPrecision p = MixedPrecision.fp16(null);
        assertEquals(65536, p.lossScale());
        p.update(false);
        assertEquals(32768, p.lossScale(), "x0.5 on an overflow");
        for (int i = 0; i < MixedPrecision.GROWTH_INTERVAL - 1; i++) {
            p.update(true);
        }
        assertEquals(32768, p.lossScale(), "1999 clean steps");
        p.update(true);
        assertEquals(65536, p.lossScale(), "x2 after 2000 clean steps in a row");
        p.update(true);
        p.update(false);
        p.update(true);
        MixedPrecision restored = MixedPrecision.fp16(null);
        restored.restore(p.state(), "memory");
        assertEquals(p.state(), restored.state());
        assertEquals(Map.of(), MixedPrecision.fp32().state());
        assertEquals(1, MixedPrecision.fp32().lossScale());
    }

    @Test
    void aPretrainingStepInFp16MixedLandsWithinFp16ToleranceOfFp32() {
        PretrainConfig cfg = TestConfigs.unit();
        SiameseBatch batch = SyntheticBatches.batch(cfg, 16, 5);
        StepResult full;
        StepResult half;
        Map<String, float[]> a;
        Map<String, float[]> b;
        try (Pretrainer t = new Pretrainer(cfg, 4, GradientReducer.IDENTITY, CrossReplicaMean.SINGLE)) {
            t.step(List.of(batch));
            full = t.step(List.of(batch));
            a = PretrainerTest.snapshot(t);
        }
        try (Pretrainer t = new Pretrainer(cfg, 4, GradientReducer.IDENTITY, CrossReplicaMean.SINGLE, null,
                MixedPrecision.fp16(null))) {
            t.step(List.of(batch));
            half = t.step(List.of(batch));
            b = PretrainerTest.snapshot(t);
        }
        System.out.printf("step 2: loss %.6f fp32, %.6f fp16-mixed; gradient norm %.6f, %.6f%n", full.loss(),
                half.loss(), full.gradNorm(), half.gradNorm());
        assertFalse(half.skipped());
        assertEquals(full.loss(), half.loss(), 1e-3 * full.loss());
        assertEquals(full.gradNorm(), half.gradNorm(), 1e-2 * full.gradNorm());
        double worst = 0;
        for (String k : a.keySet()) {
            for (int i = 0; i < a.get(k).length; i++) {
                worst = Math.max(worst, Math.abs(a.get(k)[i] - b.get(k)[i]));
            }
        }
        System.out.printf("parameters and moments after 2 steps: max difference %.2e%n", worst);
        assertTrue(worst < 1e-3, "max difference " + worst); // lr 1e-3 scale: updates of ~1e-4 per step
    }

    @Test
    void anOverflowSkipsTheStepHalvesTheScaleAndTheScaleIsInTheCheckpoint() throws Exception {
        PretrainConfig cfg = TestConfigs.unit();
        List<SiameseBatch> batches = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            batches.add(SyntheticBatches.batch(cfg, 16, 40 + i));
        }
        MixedPrecision p = MixedPrecision.fp16(null);
        p.restore(Map.of(MixedPrecision.SCALE, "1e38", MixedPrecision.GROWTH_TRACKER, "7"), "test");
        Map<String, float[]> straight;
        byte[] ckpt;
        try (Pretrainer t = new Pretrainer(cfg, 4, GradientReducer.IDENTITY, CrossReplicaMean.SINGLE, null, p)) {
            Map<String, float[]> before = PretrainerTest.snapshot(t);
            StepResult r = t.step(List.of(batches.get(0)));
            assertTrue(r.skipped(), "gradients scaled by 1e38 overflow");
            assertEquals(5e37, p.lossScale(), 1e30);
            assertEquals(1, t.step(), "a skipped step still counts");
            Map<String, float[]> after = PretrainerTest.snapshot(t);
            for (String k : before.keySet()) {
                if (!k.startsWith("mm_") && !k.contains("running_")) { // the EMA and BatchNorm buffers move in the forward
                    assertArrayEquals(before.get(k), after.get(k), k + " unchanged by a skipped step");
                }
            }
            p.restore(Map.of(MixedPrecision.SCALE, "1024"), "test"); // a scale these gradients fit under
            for (int i = 1; i < 3; i++) {
                assertFalse(t.step(List.of(batches.get(i))).skipped());
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            t.save(out);
            ckpt = out.toByteArray();
            for (int i = 3; i < 6; i++) {
                t.step(List.of(batches.get(i)));
            }
            straight = PretrainerTest.snapshot(t);
        }
        MixedPrecision q = MixedPrecision.fp16(null);
        try (Pretrainer t = new Pretrainer(cfg, 4, GradientReducer.IDENTITY, CrossReplicaMean.SINGLE, null, q)) {
            Map<String, String> extra = t.restore(new ByteArrayInputStream(ckpt), "memory").extra();
            assertEquals("1024.0", extra.get(MixedPrecision.SCALE));
            assertEquals("2", extra.get(MixedPrecision.GROWTH_TRACKER));
            assertEquals(1024, q.lossScale());
            for (int i = 3; i < 6; i++) {
                t.step(List.of(batches.get(i)));
            }
            Map<String, float[]> resumed = PretrainerTest.snapshot(t);
            for (String k : straight.keySet()) {
                assertArrayEquals(straight.get(k), resumed.get(k), k + ": resume in fp16-mixed is step-exact");
            }
        }
    }

    @Test
    void aFineTuningStepInFp16MixedLandsWithinFp16ToleranceOfFp32() {
        PretrainConfig c = FinetunerTest.cfg();
        LabelledBatch batch = FinetunerTest.batch(8, 3, 1);
        StepResult full;
        StepResult half;
        try (Finetuner t = FinetunerTest.trainer(c, 3)) {
            full = t.step(List.of(batch));
        }
        try (Finetuner t = FinetunerTest.trainer(c, 3, MixedPrecision.fp16(null))) {
            half = t.step(List.of(batch));
        }
        System.out.printf("fine-tuning step: loss %.6f fp32, %.6f fp16-mixed; gradient norm %.6f, %.6f%n",
                full.loss(), half.loss(), full.gradNorm(), half.gradNorm());
        assertFalse(half.skipped());
        assertEquals(full.loss(), half.loss(), 1e-3 * full.loss());
        assertEquals(full.gradNorm(), half.gradNorm(), 1e-2 * full.gradNorm());
    }

    @Test
    void featuresInFp16MixedAreFp32sWithinFp16Precision() {
        PretrainConfig cfg = TestConfigs.unit();
        try (NDManager m = NDManager.newBaseManager()) {
            siameseim.model.vit.VisionTransformer enc = new siameseim.model.vit.VisionTransformer(m,
                    new java.util.SplittableRandom(3), cfg.model(), "", null);
            float[] images = new float[4 * 3 * 16 * 16];
            java.util.SplittableRandom rng = new java.util.SplittableRandom(9);
            for (int i = 0; i < images.length; i++) {
                images[i] = (float) rng.nextGaussian();
            }
            float[] full = new siameseim.eval.FeatureExtractor(enc, siameseim.config.FeaturePool.MEAN_PATCH)
                    .extract(images, 4, 16, m);
            float[] half = new siameseim.eval.FeatureExtractor(enc, siameseim.config.FeaturePool.MEAN_PATCH,
                    MixedPrecision.fp16(null)).extract(images, 4, 16, m);
            double worst = 0;
            double scale = 0;
            for (int i = 0; i < full.length; i++) {
                worst = Math.max(worst, Math.abs(full[i] - half[i]));
                scale = Math.max(scale, Math.abs(full[i]));
            }
            System.out.printf("features: max difference fp16-mixed to fp32 %.2e (largest value %.2e)%n", worst, scale);
            assertTrue(worst > 0 && worst < 1e-2 * scale, "difference " + worst);
        }
    }

    @Test
    void autoIsFp32OnACpuAndTheGpuCheckPassesWhereTheSameCallsRun() {
        PretrainConfig cfg = TestConfigs.unit();
        PrecisionCheck.Choice cpu = PrecisionCheck.choose(cfg, Device.cpu());
        assertFalse(cpu.precision().isFp16());
        assertEquals("precision fp32 (train.precision = auto on a CPU)", cpu.note());
        // the check auto runs on a GPU, run on the CPU device: autocast on, one batch both ways
        PrecisionCheck.Choice checked = PrecisionCheck.check(cfg, Device.cpu());
        System.out.println(checked.note());
        assertTrue(checked.precision().isFp16(), checked.note());
        assertTrue(checked.note().startsWith("precision fp16-mixed (train.precision = auto on cpu(): check passed:"
                + " loss "), checked.note());
        assertTrue(PrecisionCheck.choose(TestConfigs.unit("train.precision=fp16-mixed"), Device.cpu()).precision()
                .isFp16());
    }
}
