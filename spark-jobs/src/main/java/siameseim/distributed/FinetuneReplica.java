package siameseim.distributed;

import java.io.IOException;
import java.util.List;
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
import siameseim.datasets.loader.BatchAssembler;
import siameseim.datasets.loader.ClassifierAssembler;
import siameseim.datasets.loader.SampleSource;
import siameseim.checkpoint.Encoders;
import siameseim.events.Event;
import siameseim.model.optim.GradientReducer;
import siameseim.train.Finetuner;
import siameseim.batch.LabelledBatch;
import siameseim.train.Schedule;
import siameseim.train.StepResult;
import siameseim.train.Trainer;

/**
 * What a fine-tuning replica runs inside {@link ReplicaLoop} (spec 5.2): the classifier starts
 * from the encoder of {@code eval.weights} (or a random init) and trains on RandAugment / mixup /
 * CutMix batches; every {@code finetune.eval-every-epochs} the test split is evaluated, each
 * replica taking an equal share and the hit counts summed across replicas.
 */
final class FinetuneReplica implements ReplicaLoop.Job<LabelledBatch> {
    private final PretrainConfig cfg;
    private final FinetuneConfig ft;
    private final Finetuner trainer;
    private final SampleSource test;
    private final EvalTransform evalTransform;
    private final ImageDecoder decoder;
    private final int evalBatch;
    private final long evalEvery;
    private final int classes;

    /** @param classNames the dataset's class names (stored in the checkpoints, used by evaluate) */
    FinetuneReplica(ReplicaLoop.Context ctx, Schedule schedule, SampleSource test, List<String> classNames)
            throws IOException {
        this.cfg = ctx.cfg();
        this.ft = cfg.finetune();
        EvalConfig ev = cfg.eval();
        this.classes = ft.classes() > 0 ? ft.classes() : classNames.size();
        Collective c = ctx.collective();
        GradientReducer reducer = c == null ? GradientReducer.IDENTITY : CollectiveReduction.gradients(c);
        this.trainer = new Finetuner(ft, cfg.model(), classes, classNames, cfg.train().seed(), ctx.rank(),
                schedule.stepsPerEpoch(), reducer, ctx.device(), cfg.json(), ctx.precision().precision());
        if (ev.weights() != null) {
            Encoders.loadForFinetuning(trainer.model(), ev.weights(), ctx.hadoop()); // head too when it fits
        }
        this.test = test;
        this.evalTransform = new EvalTransform(cfg.model().imageSize(), Resampler.Filter.BICUBIC, cfg.augment().mean(),
                cfg.augment().std());
        this.decoder = ImageDecoder.named(cfg.data().decoder());
        this.evalBatch = ev.batchSize();
        this.evalEvery = ft.evalEveryEpochs() > 0
                ? Math.max(1, Math.round(ft.evalEveryEpochs() * schedule.stepsPerEpoch())) : 0;
    }

    @Override
    public Trainer trainer() {
        return trainer;
    }

    @Override
    public int accumSteps() {
        return ft.accumSteps();
    }

    @Override
    public BatchAssembler<LabelledBatch> assembler() {
        int size = cfg.model().imageSize();
        FinetuneTransform transform = new FinetuneTransform(size, ft.cropScale(), cfg.augment().cropRatio(),
                new RandAugment(ft.randAugmentOps(), ft.randAugmentMagnitude(), ft.randAugmentMagnitudeStd()),
                ft.randomErase(), cfg.augment().mean(), cfg.augment().std());
        Mixup mixup = new Mixup(ft.mixup(), ft.cutmix(), ft.mixupProb(), ft.mixupSwitchProb(), ft.smoothing(),
                classes);
        return new ClassifierAssembler(transform, mixup, classes);
    }

    @Override
    public StepResult step(List<LabelledBatch> batch) {
        return trainer.step(batch);
    }

    @Override
    public Event.Evaluation evaluateIfDue(ReplicaLoop.Context ctx, boolean last) throws IOException {
        if (evalEvery <= 0 || (trainer.step() % evalEvery != 0 && !last)) {
            return null;
        }
        long[] hits = evaluate(ctx);
        return new Event.Evaluation(Event.Evaluation.Protocol.FINETUNE, trainer.step(), trainer.epoch(),
                hits[0] / (double) hits[2], hits[1] / (double) hits[2], hits[2], System.currentTimeMillis() / 1000.0);
    }

    /**
     * This replica's equal share of the test split through the evaluation transform; returns the
     * hits summed over all replicas: {top-1, top-5, images}.
     */
    private long[] evaluate(ReplicaLoop.Context ctx) throws IOException {
        long[] local = new long[3];
        EvalBatches.forShare(test, 0, ctx.rank(), ctx.replicas(), cfg.train().seed(), evalTransform, decoder,
                evalBatch, (images, labels, n) -> {
                    long[] h = trainer.evaluate(images, evalTransform.size(), labels);
                    local[0] += h[0];
                    local[1] += h[1];
                    local[2] += n;
                });
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

    @Override
    public void close() {
        trainer.close();
    }
}
