package siameseim.model.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.junit.jupiter.api.Test;
import siameseim.model.nn.Torch;
import siameseim.testing.TestConfigs;
import siameseim.train.Pretrainer;
import siameseim.model.nn.CrossReplicaMean;

class AdamWTest {

    /** torch.optim.AdamW, written out in double precision. */
    @Test
    void threeStepsEqualPyTorchFormula() {
        Torch.init(1);
        try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
            var module = new siameseim.model.nn.Linear(m, new java.util.SplittableRandom(1), 3, 2);
            var params = module.namedParams();
            double lr = 0.01;
            double b1 = 0.9;
            double b2 = 0.95;
            double eps = 1e-8;
            double wd = 0.05;
            AdamW opt = new AdamW(m, params, b1, b2, eps, wd, WeightDecayRule.PRETRAIN, n -> n.equals("weight") ? 0.5 : 1);
            float[] w = params.get("weight").array().toFloatArray();
            float[] bias = params.get("bias").array().toFloatArray();
            double[] mw = new double[w.length];
            double[] vw = new double[w.length];
            double[] ww = toDouble(w);
            double[] bb = toDouble(bias);
            double[] mb = new double[bb.length];
            double[] vb = new double[bb.length];
            NDArray x = m.create(new float[] {1, -2, 0.5f, 0.3f, 0.1f, -1}, new ai.djl.ndarray.types.Shape(2, 3));
            for (int t = 1; t <= 3; t++) {
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(module.forward(x).square().sum());
                }
                float[] gw;
                float[] gb;
                try (NDArray g = params.get("weight").array().getGradient()) {
                    gw = g.toFloatArray();
                }
                try (NDArray g = params.get("bias").array().getGradient()) {
                    gb = g.toFloatArray();
                }
                opt.step(lr, 0.5);
                reference(ww, mw, vw, gw, lr * 0.5, wd, b1, b2, eps, t, 0.5);
                reference(bb, mb, vb, gb, lr, 0, b1, b2, eps, t, 0.5);
                float[] ours = params.get("weight").array().toFloatArray();
                for (int i = 0; i < ours.length; i++) {
                    assertEquals(ww[i], ours[i], 1e-6, "weight step " + t);
                }
                float[] ob = params.get("bias").array().toFloatArray();
                for (int i = 0; i < ob.length; i++) {
                    assertEquals(bb[i], ob[i], 1e-6, "bias step " + t);
                }
            }
        }
    }

    private static void reference(double[] w, double[] mm, double[] vv, float[] g, double lr, double wd, double b1,
            double b2, double eps, int t, double scale) {
        for (int i = 0; i < w.length; i++) {
            double gi = g[i] * scale;
            w[i] -= lr * wd * w[i];
            mm[i] = b1 * mm[i] + (1 - b1) * gi;
            vv[i] = b2 * vv[i] + (1 - b2) * gi * gi;
            double mh = mm[i] / (1 - Math.pow(b1, t));
            double vh = vv[i] / (1 - Math.pow(b2, t));
            w[i] -= lr * mh / (Math.sqrt(vh) + eps);
        }
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    @Test
    void weightDecayFollowsTheReferenceRule() {
        try (Pretrainer t = new Pretrainer(TestConfigs.unit(), 4, GradientReducer.IDENTITY, CrossReplicaMean.SINGLE)) {
            List<String> decayed = t.optimizer().decayed();
            assertTrue(decayed.contains("cls_token"), "3-d cls_token is decayed in pretraining");
            assertTrue(decayed.contains("mask_token"));
            assertTrue(decayed.contains("blocks.0.attn.qkv.weight"));
            assertTrue(!decayed.contains("blocks.0.attn.qkv.bias"));
            assertTrue(!decayed.contains("blocks.0.norm1.weight"), "1-d LayerNorm weight");
            assertTrue(!decayed.contains("projector_decoder_blocks.0.norm1.bn.weight"));
            assertTrue(decayed.stream().noneMatch(n -> n.startsWith("patch_embed")), "frozen");
        }
    }

    @Test
    void scheduleValues() {
        LrSchedule s = new LrSchedule(1e-3, 0, 40, 1600);
        assertEquals(0, s.at(0));
        assertEquals(5e-4, s.at(20), 1e-15);
        assertEquals(1e-3, s.at(40), 1e-15);
        assertEquals(5e-4, s.at(820), 1e-12);
        assertEquals(0, s.at(1600), 1e-15);
        MomentumSchedule m = new MomentumSchedule(0.995, 1600, true);
        assertEquals(0.995, m.at(0), 1e-15);
        assertEquals(0.9975, m.at(800), 1e-12);
        assertEquals(1.0, m.at(1600), 1e-15);
    }
}
