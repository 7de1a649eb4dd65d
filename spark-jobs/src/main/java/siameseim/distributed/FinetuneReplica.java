package siameseim.distributed;

import com.google.gson.Gson;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import siameseim.checkpoint.CheckpointStore;
import siameseim.collective.Collective;
import siameseim.config.EvalConfig;
import siameseim.config.FinetuneConfig;
import siameseim.config.PretrainConfig;
import siameseim.datasets.augment.EvalTransform;
import siameseim.datasets.augment.FinetuneTransform;
import siameseim.datasets.augment.Mixup;
import siameseim.datasets.augment.RandAugment;
import siameseim.datasets.augment.Resampler;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.loader.BatchLoader;
import siameseim.datasets.loader.ClassifierAssembler;
import siameseim.datasets.loader.SampleSource;
import siameseim.evaluate.Encoders;
import siameseim.model.nn.Torch;
import siameseim.model.optim.GradientReducer;
import siameseim.train.Finetuner;
import siameseim.train.LabelledBatch;
import siameseim.train.StepResult;

/**
 * One replica of a fine-tuning run (spec 5.2): the classifier starts from the encoder of
 * {@code eval.weights} (or a random init), all replicas are checked identical, the run resumes
 * from the newest good checkpoint, and every {@code finetune.eval-every-epochs} the test split is
 * evaluated with each replica taking an equal share and the hit counts summed across replicas.
 */
public final class FinetuneReplica {
    private FinetuneReplica() {}

    /**
     * @param classNames the dataset's class names (stored in the checkpoints, used by evaluate)
     */
    public static ReplicaTrainer.Summary run(ReplicaTrainer.Context ctx, SampleSource train, SampleSource test,
            List<String> classNames) throws IOException {
        long start = System.nanoTime();
        PretrainConfig cfg = ctx.cfg();
        FinetuneConfig ft = FinetuneConfig.from(cfg.source());
        EvalConfig ev = EvalConfig.from(cfg.source());
        Torch.init(cfg.train().threads());
        int classes = ft.classes() > 0 ? ft.classes() : classNames.size();
        Collective c = ctx.collective();
        GradientReducer reducer = c == null ? GradientReducer.IDENTITY : CollectiveReduction.gradients(c);
        long stepsPerEpoch = train.size() / ft.batchSize();
        if (stepsPerEpoch < 1) {
            throw new IllegalArgumentException("the training split has " + train.size() + " images, fewer than one"
                    + " global batch (finetune.batch-size = " + ft.batchSize() + ")");
        }
        CheckpointStore store = ReplicaTrainer.store(ctx);
        try (Finetuner trainer = new Finetuner(ft, cfg.model(), classes, cfg.train().seed(), ctx.rank(),
                stepsPerEpoch, reducer, ctx.device(), cfg.source())) {
            if (ev.weights() != null) {
                Encoders.loadInto(trainer.model().encoder(), ev.weights(), ctx.hadoop());
            }
            ReplicaTrainer.agree(c, ReplicaTrainer.checksum(trainer), "the replicas' initial parameters differ"
                    + " (checksums %s): they must be built from the same config, seed and weights");
            long resumedFrom = ReplicaTrainer.resume(ctx, store, trainer);
            ReplicaTrainer.agree(c, trainer.step(), "the replicas resumed at different steps (%s)");
            if (resumedFrom >= 0) {
                ReplicaTrainer.event(ctx, "resumed", Map.of("step", trainer.step(), "from", resumedFrom));
            }
            if (c != null) {
                ReplicaTrainer.preflight(ctx, c, trainer);
            }
            long total = trainer.totalSteps();
            if (cfg.train().maxSteps() > 0) {
                total = Math.min(total, cfg.train().maxSteps());
            }
            long evalEvery = ft.evalEveryEpochs() > 0 ? Math.max(1, Math.round(ft.evalEveryEpochs() * stepsPerEpoch))
                    : 0;
            int size = cfg.model().imageSize();
            FinetuneTransform transform = new FinetuneTransform(size, ft.cropScale(), cfg.augment().cropRatio(),
                    new RandAugment(ft.randAugmentOps(), ft.randAugmentMagnitude(), ft.randAugmentMagnitudeStd()),
                    ft.randomErase(), cfg.augment().mean(), cfg.augment().std());
            Mixup mixup = new Mixup(ft.mixup(), ft.cutmix(), ft.mixupProb(), ft.mixupSwitchProb(), ft.smoothing(),
                    classes);
            EvalTransform evalTransform = new EvalTransform(size, Resampler.Filter.BICUBIC, cfg.augment().mean(),
                    cfg.augment().std());
            ImageDecoder decoder = ImageDecoder.named(cfg.data().decoder());
            Map<String, String> extra = Map.of("classes", new Gson().toJson(classNames), "global_batch",
                    Integer.toString(ft.batchSize()), "replicas", Integer.toString(ctx.replicas()));
            ReplicaTrainer.MetricsLog metrics = new ReplicaTrainer.MetricsLog(ctx, trainer.step(), "finetune");
            String lastCheckpoint = resumedFrom >= 0 && store != null
                    ? new Path(store.dir(), CheckpointStore.fileName(trainer.step())).toString() : null;
            double lastLoss = Double.NaN;
            long imagesStart = trainer.step();
            try (BatchLoader<LabelledBatch> loader = new BatchLoader<>(train, new ClassifierAssembler(transform, mixup,
                    classes), decoder, ft.batchSize(), ft.accumSteps(), ctx.rank(), ctx.replicas(), cfg.train().seed(),
                    trainer.step(), cfg.data().loaderThreads(), cfg.data().prefetchBatches(),
                    ctx.loaderSetup(), ReplicaTrainer.decodedCache(cfg, train))) {
                while (trainer.step() < total) {
                    List<LabelledBatch> batch = loader.next();
                    if (trainer.step() == imagesStart) {
                        ReplicaTrainer.reportLoaderPlacement(ctx, loader);
                    }
                    StepResult r = trainer.step(batch);
                    lastLoss = r.loss();
                    metrics.step(r);
                    boolean last = trainer.step() >= total;
                    if (evalEvery > 0 && (trainer.step() % evalEvery == 0 || last)) {
                        long[] hits = evaluate(ctx, trainer, test, evalTransform, decoder, ev.batchSize());
                        Map<String, Object> e = Map.of("step", trainer.step(), "epoch", trainer.epoch(), "top1",
                                hits[0] / (double) hits[2], "top5", hits[1] / (double) hits[2], "images", hits[2]);
                        ReplicaTrainer.event(ctx, "eval", e);
                        metrics.event("eval", e);
                    }
                    String saved = ReplicaTrainer.checkpointIfDue(ctx, store, trainer, last, extra, metrics);
                    lastCheckpoint = saved != null ? saved : lastCheckpoint;
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long images = (trainer.step() - imagesStart) * (long) ft.batchSize();
            return new ReplicaTrainer.Summary(ctx.rank(), trainer.step(), resumedFrom, lastLoss, lastCheckpoint,
                    ReplicaTrainer.checksum(trainer), seconds, images / seconds, ProcessHandle.current().pid(),
                    ctx.placement().note());
        }
    }

    /**
     * This replica's equal share of the test split through the evaluation transform; returns the
     * hits summed over all replicas: {top-1, top-5, images}.
     */
    static long[] evaluate(ReplicaTrainer.Context ctx, Finetuner trainer, SampleSource test, EvalTransform tf,
            ImageDecoder decoder, int batch) throws IOException {
        long[] local = new long[3];
        EvalBatches.forShare(test, 0, ctx.rank(), ctx.replicas(), ctx.cfg().train().seed(), tf, decoder, batch,
                (images, labels, n) -> add(local, trainer.evaluate(images, tf.size(), labels), n));
        Collective c = ctx.collective();
        if (c == null) {
            return local;
        }
        long[] sum = new long[3];
        for (int i = 0; i < 3; i++) {
            for (long v : c.allGather(local[i])) {
                sum[i] += v;
            }
        }
        return sum;
    }

    private static void add(long[] acc, long[] hits, int count) {
        acc[0] += hits[0];
        acc[1] += hits[1];
        acc[2] += count;
    }
}
