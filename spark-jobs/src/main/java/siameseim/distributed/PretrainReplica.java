package siameseim.distributed;

import java.io.IOException;
import java.util.List;
import siameseim.collective.Collective;
import siameseim.config.PretrainConfig;
import siameseim.datasets.augment.TwoViewAugmenter;
import siameseim.datasets.loader.BatchAssembler;
import siameseim.datasets.loader.SiameseAssembler;
import siameseim.eval.Knn;
import siameseim.events.Event;
import siameseim.model.nn.CrossReplicaMean;
import siameseim.model.optim.GradientReducer;
import siameseim.batch.SiameseBatch;
import siameseim.train.Pretrainer;
import siameseim.train.Schedule;
import siameseim.train.StepResult;
import siameseim.train.Trainer;

/**
 * What a pretraining replica runs inside {@link ReplicaLoop}: the SiameseIM step
 * ({@link Pretrainer}) on two-view batches, the gradient all-reduce and the cross-replica
 * BatchNorm statistics over the collective, and the kNN monitor every {@code eval.knn.every-steps}.
 */
final class PretrainReplica implements ReplicaLoop.Job<SiameseBatch> {
    private final PretrainConfig cfg;
    private final Pretrainer trainer;
    private final CollectiveReduction.Statistics timed;
    private final KnnMonitor monitor;
    private final long knnEvery;

    /** @param monitor kNN of the online encoder every {@code eval.knn.every-steps} steps, or null */
    PretrainReplica(ReplicaLoop.Context ctx, Schedule schedule, KnnMonitor monitor) {
        this.cfg = ctx.cfg();
        Collective c = ctx.collective();
        GradientReducer reducer = c == null ? GradientReducer.IDENTITY : CollectiveReduction.gradients(c);
        this.timed = c == null ? null : CollectiveReduction.statistics(c);
        CrossReplicaMean stats = timed == null ? CrossReplicaMean.SINGLE : timed;
        this.trainer = new Pretrainer(cfg, schedule.stepsPerEpoch(), reducer, stats, ctx.device(),
                ctx.precision().precision());
        this.monitor = monitor;
        this.knnEvery = monitor == null ? 0 : cfg.eval().knn().everySteps();
    }

    @Override
    public Trainer trainer() {
        return trainer;
    }

    @Override
    public int accumSteps() {
        return cfg.optim().accumSteps();
    }

    @Override
    public BatchAssembler<SiameseBatch> assembler() {
        return new SiameseAssembler(new TwoViewAugmenter(cfg));
    }

    @Override
    public StepResult step(List<SiameseBatch> batch) {
        return trainer.step(batch);
    }

    @Override
    public double takeSyncMs() {
        return timed == null ? Double.NaN : timed.takeMs();
    }

    @Override
    public Event.Evaluation evaluateIfDue(ReplicaLoop.Context ctx, boolean last) throws IOException {
        if (knnEvery <= 0 || (trainer.step() % knnEvery != 0 && !last)) {
            return null;
        }
        Knn.Accuracy a = monitor.run(ctx, trainer.model().encoder());
        return a == null ? null : new Event.Evaluation(Event.Evaluation.Protocol.KNN, trainer.step(), trainer.epoch(),
                a.top1(), a.top5(), a.count(), System.currentTimeMillis() / 1000.0);
    }

    @Override
    public void close() {
        trainer.close();
    }
}
