package siameseim.distributed;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import siameseim.collective.Collective;
import siameseim.config.EvalConfig;
import siameseim.config.PretrainConfig;
import siameseim.datasets.augment.Resampler;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.augment.EvalTransform;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.loader.SampleSource;
import siameseim.eval.FeatureExtractor;
import siameseim.config.FeaturePool;
import siameseim.eval.Knn;
import siameseim.model.vit.VisionTransformer;

/**
 * kNN accuracy of the online encoder during pretraining (option {@code eval.knn.every-steps}):
 * every replica extracts the features of its share of a random subset of the training split (the
 * memory bank) and of the held-out split, the features are all-gathered and rank 0 scores them
 * (cosine, k and temperature of {@code eval.knn}). Costs one forward pass per image, no backward.
 */
final class KnnMonitor {
    private final SampleSource bank;
    private final SampleSource test;
    private final int bankLimit;
    private final int testLimit;
    private final int k;
    private final double temperature;
    private final FeaturePool pool;
    private final EvalTransform transform;
    private final ImageDecoder decoder;
    private final int batch;
    private final int classes;

    KnnMonitor(SampleSource bank, SampleSource test, int bankLimit, int testLimit, int k, double temperature,
            FeaturePool pool, EvalTransform transform, ImageDecoder decoder, int batch, int classes) {
        this.bank = bank;
        this.test = test;
        this.bankLimit = bankLimit;
        this.testLimit = testLimit;
        this.k = k;
        this.temperature = temperature;
        this.pool = pool;
        this.transform = transform;
        this.decoder = decoder;
        this.batch = batch;
        this.classes = classes;
    }

    /** The kNN monitor of a pretraining run, or null when eval.knn.every-steps is 0. */
    static KnnMonitor of(PretrainConfig cfg, Configuration conf) throws IOException {
        EvalConfig ev = cfg.eval();
        if (ev.knn().everySteps() == 0) {
            return null;
        }
        Manifest m = Manifest.read(conf, new Path(cfg.data().path()));
        return new KnnMonitor(TrainingData.sample(cfg, conf, m, ev.trainSplit(), ev.knn().monitorBank()),
                TrainingData.sample(cfg, conf, m, ev.testSplit(), ev.knn().monitorTest()),
                ev.knn().monitorBank(), ev.knn().monitorTest(), ev.knn().k(), ev.knn().temperature(), ev.knn().pool(),
                new EvalTransform(cfg.model().imageSize(), Resampler.Filter.BICUBIC, cfg.augment().mean(),
                        cfg.augment().std()), ImageDecoder.named(cfg.data().decoder()), ev.batchSize(),
                m.classes().size());
    }

    /** Rank 0 gets the accuracy; the other ranks get null. Every rank must call it at the same step. */
    Knn.Accuracy run(ReplicaLoop.Context ctx, VisionTransformer encoder) throws IOException {
        FeatureExtractor fx = new FeatureExtractor(encoder, pool);
        Part b;
        Part t;
        try (NDManager m = NDManager.newBaseManager(ctx.device())) {
            b = features(ctx, fx, bank, bankLimit, m);
            t = features(ctx, fx, test, testLimit, m);
        }
        int d = fx.dimension();
        if (ctx.rank() != 0) {
            return null;
        }
        return Knn.evaluate(b.features, b.labels, t.features, t.labels, d, classes, k, temperature);
    }

    private record Part(float[] features, int[] labels) {}

    private Part features(ReplicaLoop.Context ctx, FeatureExtractor fx, SampleSource src, int limit,
            NDManager manager) throws IOException {
        List<float[]> feats = new ArrayList<>();
        List<int[]> labels = new ArrayList<>();
        EvalBatches.forShare(src, limit, ctx.rank(), ctx.replicas(), ctx.cfg().train().seed(), transform, decoder,
                batch, (images, l, n) -> {
                    feats.add(fx.extract(images, n, transform.size(), manager));
                    labels.add(l);
                });
        float[] f = concat(feats);
        float[] l = new float[labels.stream().mapToInt(a -> a.length).sum()];
        int i = 0;
        for (int[] a : labels) {
            for (int v : a) {
                l[i++] = v;
            }
        }
        Collective c = ctx.collective();
        if (c != null) {
            f = gather(c, f);
            l = gather(c, l);
        }
        int[] out = new int[l.length];
        for (int j = 0; j < l.length; j++) {
            out[j] = (int) l[j];
        }
        return new Part(f, out);
    }

    /** All ranks' arrays in rank order; shares differ in length by up to one batch row. */
    static float[] gather(Collective c, float[] mine) {
        long[] lengths = c.allGather((long) mine.length);
        int max = (int) java.util.Arrays.stream(lengths).max().orElse(0);
        float[][] all = c.allGather(java.util.Arrays.copyOf(mine, max));
        List<float[]> parts = new ArrayList<>();
        for (int r = 0; r < all.length; r++) {
            parts.add(java.util.Arrays.copyOf(all[r], (int) lengths[r]));
        }
        return concat(parts);
    }

    private static float[] concat(List<float[]> parts) {
        float[] out = new float[parts.stream().mapToInt(a -> a.length).sum()];
        int o = 0;
        for (float[] a : parts) {
            System.arraycopy(a, 0, out, o, a.length);
            o += a.length;
        }
        return out;
    }
}
