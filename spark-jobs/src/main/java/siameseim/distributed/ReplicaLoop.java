package siameseim.distributed;

import ai.djl.Device;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.zip.CRC32C;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import siameseim.checkpoint.CheckpointStore;
import siameseim.collective.AllReduceBenchmark;
import siameseim.collective.Collective;
import siameseim.config.PretrainConfig;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.loader.BatchAssembler;
import siameseim.datasets.loader.BatchLoader;
import siameseim.datasets.loader.DecodedCache;
import siameseim.datasets.loader.SampleSource;
import siameseim.datasets.loader.ShardSource;
import siameseim.events.Event;
import siameseim.events.Summary;
import siameseim.metrics.MetricsSink;
import siameseim.model.io.Safetensors;
import siameseim.model.nn.Param;
import siameseim.train.PrecisionCheck;
import siameseim.train.Schedule;
import siameseim.train.StepResult;
import siameseim.train.Trainer;

/**
 * The one loop every replica of a training run goes through, whatever its kind: identical start
 * (a parameter checksum across replicas), resume ({@link CheckpointStore#resume}: the run's own
 * newest good checkpoint, else the {@code --resume} seed), a pre-flight measurement of the links,
 * then the steps, with evaluations, checkpoints and metrics as they fall due, and a summary. What
 * differs between kinds lives behind {@link Job}, built by the run's {@link TrainingKind}. All
 * replicas stay bit-identical because every reduction returns the same bits everywhere.
 * Independent of Spark: the caller supplies rank, collective and data.
 */
public final class ReplicaLoop {
    private static final java.lang.management.ThreadMXBean THREAD_CPU =
            java.lang.management.ManagementFactory.getThreadMXBean();

    /**
     * Runs before every checkpoint commit of the replicas of this JVM: the seam through which
     * local-mode fault tests (whose replicas run in the test's JVM) inject storage failures.
     */
    static volatile CheckpointStore.CommitHook beforeCommit = CheckpointStore.NO_HOOK;

    private ReplicaLoop() {}

    /**
     * Everything a replica needs; {@code collective} is null for a single replica, {@code precision}
     * is train.precision as resolved on this replica's device; {@code log} takes warnings,
     * {@code info} what is only informational (the executor log's levels mean what they say).
     */
    public record Context(TrainingKind kind, PretrainConfig cfg, int rank, int replicas, Collective collective,
            Configuration hadoop, String resume, Device device, PrecisionCheck.Choice precision,
            ThreadPlacement placement, Consumer<String> events, Consumer<String> log, Consumer<String> info) {
        /** A replica on the CPU (no GPU assigned). */
        public boolean cpuReplica() {
            return device == null || !device.isGpu();
        }

        /** How the loader's worker threads are placed: priority (data.loader-priority) and CPUs. */
        public BatchLoader.WorkerSetup loaderSetup() {
            return placement.loaderSetup(cfg.data().idleLoader(cpuReplica()));
        }
    }

    /** What a replica of one kind of run does in the loop; B is a micro-batch. */
    interface Job<B> extends AutoCloseable {
        Trainer trainer();

        int accumSteps();

        BatchAssembler<B> assembler();

        StepResult step(List<B> batch);

        /** Time of this step in cross-replica statistics exchanges, NaN when not measured. */
        default double takeSyncMs() {
            return Double.NaN;
        }

        /** The evaluation due after the trainer's current step, or null; every rank calls it at every step. */
        Event.Evaluation evaluateIfDue(Context ctx, boolean last) throws IOException;

        /** Frees the trainer's native memory. */
        @Override
        void close();
    }

    static <B> Summary run(Context ctx, SampleSource data, Schedule schedule, Job<B> job) throws IOException {
        long start = System.nanoTime();
        Trainer trainer = job.trainer();
        Consumer<String> log = line -> ctx.log().accept("rank " + ctx.rank() + ": " + line);
        Consumer<String> info = line -> ctx.info().accept("rank " + ctx.rank() + ": " + line);
        Checkpoints checkpoints = Checkpoints.of(ctx);
        CheckpointStore.Resumed resumed = resume(ctx, trainer, checkpoints, log, info);
        MetricsSink metrics = startMetrics(ctx, trainer, resumed, log);
        String lastCheckpoint = resumed == null ? null : resumed.from().toString();
        long total = schedule.totalSteps();
        long firstStep = trainer.step();
        double lastLoss = Double.NaN;
        StepTimer timer = new StepTimer(ctx.collective() != null);
        PretrainConfig cfg = ctx.cfg();
        long cacheBytes = cfg.data().decodedCacheBytes();
        DecodedCache decoded = cacheBytes <= 0 ? null : new DecodedCache(cacheBytes, data.size());
        try (BatchLoader<B> loader = new BatchLoader<>(data, job.assembler(), ImageDecoder.named(cfg.data().decoder()),
                schedule.globalBatch(), job.accumSteps(), ctx.rank(), ctx.replicas(), cfg.train().seed(),
                trainer.step(), cfg.data().loaderThreads(), cfg.data().prefetchBatches(), ctx.loaderSetup(), decoded)) {
            while (trainer.step() < total) {
                long waitFrom = System.nanoTime();
                List<B> batch = loader.next();
                double loadMs = (System.nanoTime() - waitFrom) / 1e6;
                if (trainer.step() == firstStep && loader.setupRefused() != null) {
                    log.accept("loader threads not placed as asked (" + loader.setupRefused()
                            + "); they share the training cores by time-slicing");
                }
                long cpuFrom = THREAD_CPU.getCurrentThreadCpuTime();
                StepResult r = job.step(batch);
                double cpuMs = (THREAD_CPU.getCurrentThreadCpuTime() - cpuFrom) / 1e6;
                loader.recycle(batch); // step() copied the batch into tensors
                lastLoss = r.loss();
                Event.StepTiming timing = timer.add(trainer.step() - firstStep, r);
                if (timing != null) {
                    metrics.accept(timing);
                }
                metrics.accept(Event.Step.of(r, ctx.replicas(), job.takeSyncMs(), loadMs, cpuMs));
                boolean last = trainer.step() >= total;
                Event.Evaluation ev = job.evaluateIfDue(ctx, last);
                if (ev != null) {
                    metrics.accept(ev);
                }
                String saved = checkpoints.saveIfDue(trainer, last, metrics);
                lastCheckpoint = saved != null ? saved : lastCheckpoint;
            }
        }
        if (decoded != null) {
            info.accept(decoded.describe() + (data instanceof ShardSource s ? "; " + s.samplesRead()
                    + " samples read from the shards" : ""));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long images = (trainer.step() - firstStep) * (long) schedule.globalBatch();
        return new Summary(ctx.rank(), trainer.step(), resumed == null ? -1 : resumed.step(), lastLoss,
                lastCheckpoint, checksum(trainer), seconds, images / seconds, ProcessHandle.current().pid(),
                ctx.placement().note());
    }

    /**
     * The replicas check that they start from the same parameters, resume by the run's policy
     * and check that they all resumed at the same step. Returns where they resumed, or null.
     */
    private static CheckpointStore.Resumed resume(Context ctx, Trainer trainer, Checkpoints checkpoints,
            Consumer<String> log, Consumer<String> info) throws IOException {
        Collective c = ctx.collective();
        agree(c, checksum(trainer), "the replicas' initial parameters differ (checksums %s): they must be built from"
                + " the same " + ctx.kind().sameStart());
        CheckpointStore.Resumed resumed = CheckpointStore.resume(ctx.hadoop(), checkpoints.store, ctx.resume(),
                (in, source) -> trainer.restore(in, source).step(), log);
        if (resumed != null) {
            info.accept("resumed at step " + resumed.step() + " from " + resumed.from() + ": " + resumed.why());
        }
        agree(c, trainer.step(), "the replicas resumed at different steps (%s)");
        return resumed;
    }

    /**
     * The run's metrics from the step it starts at, and its first events: where rank 0's threads
     * run, its precision, where it resumed, and the pre-flight all-reduce of the gradient's size.
     */
    private static MetricsSink startMetrics(Context ctx, Trainer trainer, CheckpointStore.Resumed resumed,
            Consumer<String> log) {
        MetricsSink metrics = new MetricsSink(ctx.hadoop(), ctx.cfg().train().output(), ctx.rank() == 0,
                trainer.step(), ctx.kind().tag(), ctx.events(), log);
        metrics.accept(new Event.Placement(ctx.placement().note()));
        metrics.accept(new Event.Placement(ctx.precision().note()));
        if (resumed != null) {
            metrics.accept(new Event.Resumed(resumed.step(), resumed.from().toString(), resumed.why()));
        }
        if (ctx.collective() != null) {
            AllReduceBenchmark.Preflight p = AllReduceBenchmark.preflight(ctx.collective(), trainer.gradientSize() * 4);
            metrics.accept(new Event.Preflight(p.bytes(), p.seconds() * 1000, p.busGiBps(), p.ranks()));
        }
        return metrics;
    }

    /**
     * The mean compute and all-reduce time of a run's steps 6-15 (the first ones run while the
     * JIT compiles), reported once by runs with a collective.
     */
    static final class StepTimer {
        static final int SKIP = 5;
        static final int STEPS = 10;
        private final boolean report;
        private double computeMs;
        private double reduceMs;

        StepTimer(boolean report) {
            this.report = report;
        }

        /** Adds the step that made {@code runStep} steps of this run; the timing once its window is full, else null. */
        Event.StepTiming add(long runStep, StepResult r) {
            if (runStep <= SKIP || runStep > SKIP + STEPS) {
                return null;
            }
            computeMs += r.forwardBackwardMs() + r.updateMs();
            reduceMs += r.reduceMs();
            return report && runStep == SKIP + STEPS ? new Event.StepTiming(computeMs / STEPS, reduceMs / STEPS) : null;
        }
    }

    /**
     * The run's checkpoints and their cadence: every checkpoint.every-steps steps and at the end,
     * rank 0 writes the checkpoint and the metrics since the last one.
     */
    static final class Checkpoints {
        final CheckpointStore store;
        private final long every;
        private final boolean writer;

        private Checkpoints(CheckpointStore store, long every, boolean writer) {
            this.store = store;
            this.every = every;
            this.writer = writer;
        }

        /** The run's store under train.output/checkpoints (none for a run without output). */
        static Checkpoints of(Context ctx) {
            PretrainConfig cfg = ctx.cfg();
            CheckpointStore store = cfg.train().output() == null ? null
                    : new CheckpointStore(ctx.hadoop(), new Path(cfg.train().output(), "checkpoints"),
                            cfg.checkpoint().keep(), ctx.log(), t -> beforeCommit.beforeCommit(t));
            return new Checkpoints(store, cfg.checkpoint().everySteps(), ctx.rank() == 0);
        }

        /** The checkpoint's path when one is due after the trainer's step (every rank gets it), else null. */
        String saveIfDue(Trainer trainer, boolean last, MetricsSink metrics) throws IOException {
            long step = trainer.step();
            if (store == null || (step % every != 0 && !last)) {
                return null;
            }
            if (!writer) {
                return new Path(store.dir(), CheckpointStore.fileName(step)).toString();
            }
            String path = store.save(step, trainer::save).toString();
            metrics.flush(step);
            metrics.accept(new Event.Checkpoint(step, path));
            return path;
        }
    }

    /** Fails unless every replica has the same {@code value}. */
    static void agree(Collective c, long value, String message) {
        if (c == null) {
            return;
        }
        long[] all = c.allGather(value);
        for (long v : all) {
            if (v != all[0]) {
                throw new IllegalStateException(String.format(Locale.ROOT, message, Arrays.toString(all)));
            }
        }
    }

    /** CRC32C over every model tensor's bytes, in name order. */
    static long checksum(Trainer t) {
        CRC32C crc = new CRC32C();
        for (Param p : t.model().namedParams().values()) {
            crc.update(Safetensors.hostBytes(p.array()));
        }
        return crc.getValue();
    }
}
