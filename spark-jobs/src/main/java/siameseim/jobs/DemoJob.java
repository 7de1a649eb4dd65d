package siameseim.jobs;

import ai.djl.ndarray.NDManager;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;
import java.util.Map;
import siameseim.config.ConfigLoader;
import siameseim.config.DataConfig;
import siameseim.config.PretrainConfig;
import siameseim.datasets.augment.EvalTransform;
import siameseim.datasets.augment.Resampler;
import siameseim.datasets.augment.TwoViewAugmenter;
import siameseim.datasets.image.PackedImages;
import siameseim.datasets.loader.BatchLoader;
import siameseim.datasets.loader.InMemorySource;
import siameseim.datasets.synthetic.SyntheticShapes;
import siameseim.eval.FeatureExtractor;
import siameseim.eval.FeaturePool;
import siameseim.eval.Knn;
import siameseim.evaluate.KnnProbe;
import siameseim.model.nn.CrossReplicaMean;
import siameseim.model.optim.GradientReducer;
import siameseim.train.Pretrainer;
import siameseim.train.StepResult;

/**
 * The main job on the built-in data, on one replica: render the synthetic dataset, pretrain the
 * demo config, and show what pretraining bought with a kNN probe before and after.
 */
public final class DemoJob implements Job {

    @Override
    public String name() {
        return "demo";
    }

    @Override
    public String summary() {
        return "pretrain the demo config on the built-in synthetic dataset (one replica), kNN before/after";
    }

    @Override
    public String usage() {
        return "[--output DIR (runs/demo)] [--test-per-class N (50)]";
    }

    @Override
    public int run(JobArgs a) throws Exception {
        a.allowOnly("output", "test-per-class");
        PretrainConfig cfg = ConfigLoader.loadPretrain(a.confFile("pretrain-demo.conf"), a.overrides());
        Path out = Paths.get(a.option("output", "runs/demo"));
        int testPerClass = a.intOption("test-per-class", 50);
        DataConfig.Synthetic syn = cfg.data().synthetic();
        System.out.printf(Locale.ROOT, "[demo] model: ViT %d px / patch %d, D %d x %d blocks, decoder %d (projector %d,"
                + " predictor %d), %d of %d patches masked%n", cfg.model().imageSize(), cfg.model().patchSize(),
                cfg.model().encoder().width(), cfg.model().encoder().depth(), cfg.model().decoder().width(),
                cfg.model().decoder().projectorDepth(), cfg.model().decoder().predictorDepth(), cfg.mask().count(),
                cfg.model().tokens());
        long t0 = System.nanoTime();
        PackedImages train = SyntheticShapes.dataset(syn.classes(), 0, syn.imagesPerClass(), syn.imageSize(), syn.seed());
        PackedImages test = SyntheticShapes.dataset(syn.classes(), syn.imagesPerClass(), testPerClass, syn.imageSize(),
                syn.seed());
        System.out.printf(Locale.ROOT, "[demo] data: built-in synthetic shapes, %d classes, %d training + %d held-out"
                + " images of %d px, rendered in %.1f s%n", syn.classes(), train.size(), test.size(), syn.imageSize(),
                (System.nanoTime() - t0) / 1e9);

        TwoViewAugmenter augmenter = new TwoViewAugmenter(cfg);
        int batch = cfg.optim().batchSize();
        long stepsPerEpoch = train.size() / batch;
        EvalTransform evalTf = new EvalTransform(cfg.model().imageSize(), Resampler.Filter.BICUBIC,
                cfg.augment().mean(), cfg.augment().std());
        try (Pretrainer trainer = new Pretrainer(cfg, stepsPerEpoch, GradientReducer.IDENTITY, CrossReplicaMean.SINGLE);
                NDManager evalManager = NDManager.newBaseManager()) {
            long total = trainer.totalSteps();
            if (cfg.train().maxSteps() > 0) {
                total = Math.min(total, cfg.train().maxSteps());
            }
            FeatureExtractor features = new FeatureExtractor(trainer.model().encoder(), FeaturePool.MEAN_PATCH);
            Knn.Accuracy before = KnnProbe.run(features, evalTf, train, test, syn.classes(), 20, 0.07, evalManager);
            System.out.printf(Locale.ROOT, "[demo] kNN (k 20, T 0.07) of the randomly initialised encoder: top-1 %.1f%%%n",
                    100 * before.top1());
            System.out.printf(Locale.ROOT, "[demo] pretraining: %d steps (%s epochs of %d steps), batch %d, peak lr %.1e,"
                    + " %d intra-op threads%n", total, ProgressLine.trim(total / (double) stepsPerEpoch), stepsPerEpoch,
                    batch, cfg.optim().peakLr(), cfg.train().threads());
            ProgressLine progress = new ProgressLine("demo", total, stepsPerEpoch, cfg.train().logEverySeconds());
            long trainStart = System.nanoTime();
            double lastLoss = Double.NaN;
            try (BatchLoader loader = new BatchLoader(new InMemorySource(train), augmenter, null, batch,
                    cfg.optim().accumSteps(), 0, 1, cfg.train().seed(), 0, cfg.data().loaderThreads(),
                    cfg.data().prefetchBatches())) {
                for (long s = 0; s < total; s++) {
                    StepResult r = trainer.step(loader.next());
                    lastLoss = r.loss();
                    String line = progress.update(r, 1);
                    if (line != null) {
                        System.out.println(line);
                    }
                }
            }
            double trainSeconds = (System.nanoTime() - trainStart) / 1e9;
            Files.createDirectories(out);
            Path ckpt = out.resolve("checkpoint-final.safetensors");
            try (OutputStream os = Files.newOutputStream(ckpt)) {
                trainer.save(os, Map.of());
            }
            Knn.Accuracy after = KnnProbe.run(features, evalTf, train, test, syn.classes(), 20, 0.07, evalManager);
            System.out.println();
            System.out.println("| encoder | kNN top-1 | kNN top-5 |");
            System.out.println("|---|---|---|");
            System.out.printf(Locale.ROOT, "| random init | %.1f%% | %.1f%% |%n", 100 * before.top1(), 100 * before.top5());
            System.out.printf(Locale.ROOT, "| SiameseIM, %d steps | %.1f%% | %.1f%% |%n", total, 100 * after.top1(),
                    100 * after.top5());
            System.out.printf(Locale.ROOT, "%n[demo] final loss %.4f; trained %d steps in %s (%.1f img/s); checkpoint %s%n",
                    lastLoss, total, ProgressLine.duration(trainSeconds), total * batch / trainSeconds, ckpt);
        }
        return 0;
    }
}
