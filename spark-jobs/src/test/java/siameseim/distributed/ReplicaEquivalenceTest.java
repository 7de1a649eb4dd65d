package siameseim.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import siameseim.collective.LocalGroup;
import siameseim.config.PretrainConfig;
import siameseim.model.nn.CrossReplicaMean;
import siameseim.model.nn.Param;
import siameseim.model.optim.GradientReducer;
import siameseim.batch.SiameseBatch;
import siameseim.train.Pretrainer;
import siameseim.train.SyntheticBatches;

/**
 * Two replicas with per-replica batch b reach the parameters of one replica with batch 2 b on
 * the same samples: gradients, normalisation statistics and the UniGrad correlation matrix are
 * reduced with the right semantics.
 */
class ReplicaEquivalenceTest {
    static final int STEPS = Integer.getInteger("equiv.steps", 5);

    static PretrainConfig cfg(String norm) {
        return siameseim.testing.TestConfigs.unit("model.decoder.norm=" + norm);
    }

    static Map<String, float[]> params(Pretrainer t) {
        Map<String, float[]> out = new TreeMap<>();
        for (Map.Entry<String, Param> e : t.model().namedParams().entrySet()) {
            out.put(e.getKey(), e.getValue().array().toFloatArray());
        }
        return out;
    }

    static SiameseBatch half(SiameseBatch b, int which) {
        int h = b.size() / 2;
        int px = b.view1().length / b.size();
        int lv = b.visibleCount();
        return new SiameseBatch(h, b.imageSize(),
                java.util.Arrays.copyOfRange(b.view1(), which * h * px, (which + 1) * h * px),
                java.util.Arrays.copyOfRange(b.view2(), which * h * px, (which + 1) * h * px),
                java.util.Arrays.copyOfRange(b.visible(), which * h * lv, (which + 1) * h * lv), lv,
                java.util.Arrays.copyOfRange(b.geometry(), which * h * 6, (which + 1) * h * 6));
    }

    /** Largest |a - b| over all tensors, relative to max(1, |a|). */
    static double run(String norm) throws Exception {
        PretrainConfig c = cfg(norm);
        List<SiameseBatch> batches = new ArrayList<>();
        for (int s = 0; s < STEPS; s++) {
            batches.add(SyntheticBatches.batch(c, 16, 40 + s));
        }
        Map<String, float[]> single;
        try (Pretrainer t = new Pretrainer(c, 10, GradientReducer.IDENTITY, CrossReplicaMean.SINGLE)) {
            for (SiameseBatch b : batches) {
                t.step(List.of(b));
            }
            single = params(t);
        }
        List<Map<String, float[]>> replicas;
        try (LocalGroup g = new LocalGroup(2, 30_000)) {
            replicas = g.onAll(col -> {
                try (Pretrainer t = new Pretrainer(c, 10, CollectiveReduction.gradients(col),
                        CollectiveReduction.statistics(col))) {
                    for (SiameseBatch b : batches) {
                        t.step(List.of(half(b, col.rank())));
                    }
                    return params(t);
                }
            });
        }
        for (String k : single.keySet()) {
            assertArrayEquals(replicas.get(0).get(k), replicas.get(1).get(k), "replicas stay identical: " + k);
        }
        double worst = 0;
        String where = "";
        for (String k : single.keySet()) {
            float[] a = single.get(k);
            float[] b = replicas.get(0).get(k);
            for (int i = 0; i < a.length; i++) {
                double d = Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(a[i]));
                if (d > worst) {
                    worst = d;
                    where = k + "[" + i + "] " + a[i] + " vs " + b[i];
                }
            }
        }
        System.out.println("largest difference at " + where);
        return worst;
    }

    @Test
    void layerNormDecoderIsExactWithin1e4() throws Exception {
        double gap = run("layer");
        System.out.printf("2 replicas vs 1, LayerNorm decoder, %d steps: max parameter difference %.3e%n", STEPS, gap);
        assertTrue(gap < 1e-4, "gap " + gap);
    }

    @Test
    void batchNormDecoderGapIsBounded() throws Exception {
        double gap = run("batch");
        System.out.printf("2 replicas vs 1, BatchNorm decoder, %d steps: max parameter difference %.3e%n", STEPS, gap);
        // forward statistics are global (SyncBN), the backward through them is this replica's share;
        // docs/distributed.md reports the measured gap; this bound keeps it from growing unnoticed
        assertTrue(gap < 5e-3, "gap " + gap);
    }
}
