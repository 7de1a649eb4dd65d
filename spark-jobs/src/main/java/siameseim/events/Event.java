package siameseim.events;

import siameseim.train.StepResult;

/**
 * What a training run reports: the replicas send these to the driver (rank 0 only) and write them
 * to the run's metrics files, one JSON line each ({@link EventCodec}); the console
 * ({@link Console}), TensorBoard, the plots ({@code metrics.MetricsHistory}) and the benchmark
 * read these records. A value a trainer does not have is NaN.
 */
public sealed interface Event {

    /** One optimizer step of rank 0; {@code images} counts all replicas. */
    record Step(long step, double epoch, double loss, double pos, double neg, double lr, double momentum,
            double gradNorm, boolean skipped, long images, double computeMs, double allreduceMs, double syncMs,
            double loadMs, double cpuMs, double time) implements Event {

        /**
         * @param syncMs time in the cross-replica statistics exchanges (mostly waiting for the slowest
         *     replica), {@code loadMs} waiting for the batch, {@code cpuMs} the training thread's CPU
         *     time (less than the step's wall time when it was descheduled); NaN when not measured
         */
        public static Step of(StepResult r, int replicas, double syncMs, double loadMs, double cpuMs) {
            return new Step(r.step() + 1, r.epoch(), r.loss(), r.pos(), r.neg(), r.lr(), r.momentum(), r.gradNorm(),
                    r.skipped(), (long) r.images() * replicas, r.forwardBackwardMs() + r.updateMs(), r.reduceMs(),
                    syncMs, loadMs, cpuMs, System.currentTimeMillis() / 1000.0);
        }
    }

    /** An accuracy measured during a run: the kNN monitor of pretraining, or fine-tuning's test split. */
    record Evaluation(Protocol protocol, long step, double epoch, double top1, double top5, long images, double time)
            implements Event {
        public enum Protocol {
            /** eval.knn.every-steps during pretraining (held-out images against a memory bank). */
            KNN,
            /** finetune.eval-every-epochs: the classifier on the test split. */
            FINETUNE
        }
    }

    /** Rank 0 wrote the checkpoint of {@code step}. */
    record Checkpoint(long step, String path) implements Event {}

    /** The replicas resumed at {@code step} from {@code checkpoint}; {@code why} that one (resume's policy). */
    record Resumed(long step, String checkpoint, String why) implements Event {}

    /** The all-reduce of a gradient-sized buffer before training (the links' bus bandwidth). */
    record Preflight(long bytes, double allreduceMs, double busGibps, int replicas) implements Event {}

    /** Mean compute and gradient all-reduce time of a run's steps 6-15. */
    record StepTiming(double computeMs, double allreduceMs) implements Event {}

    /** Where rank 0's threads run (train.pin-threads). */
    record Placement(String note) implements Event {}

    /**
     * The driver saw an executor go (Spark retries the barrier stage); {@code checkpoint} is the
     * step the retry resumes from, -1 for the start.
     */
    record Fault(String executor, long step, String reason, long checkpoint) implements Event {}
}
