package siameseim.distributed;

import ai.djl.Device;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
import siameseim.train.Schedule;
import siameseim.train.StepResult;
import siameseim.train.Trainer;

/**
 * The one loop every replica of a training run goes through, for pretraining and fine-tuning
 * alike: identical start (a parameter checksum across replicas), resume from the newest good
 * checkpoint, a pre-flight measurement of the links, then the steps, with evaluations,
 * checkpoints and metrics as they fall due, and a summary. What differs between the two lives
 * behind {@link Job}. All replicas stay bit-identical because every reduction returns the same
 * bits everywhere. Independent of Spark: the caller supplies rank, collective and data.
 */
public final class ReplicaLoop {
    private static final java.lang.management.ThreadMXBean THREAD_CPU =
            java.lang.management.ManagementFactory.getThreadMXBean();
    /** The per-step timing line averages this many steps after the first {@link #TIMING_SKIP} of a run. */
    static final int TIMING_STEPS = 10;
    static final int TIMING_SKIP = 5;

    private ReplicaLoop() {}

    /** Everything a replica needs; {@code collective} is null for a single replica. */
    public record Context(PretrainConfig cfg, int rank, int replicas, Collective collective, Configuration hadoop,
            String resume, Device device, ThreadPlacement placement, Consumer<String> events, Consumer<String> log) {
        /** A replica on the CPU (no GPU assigned). */
        public boolean cpuReplica() {
            return device == null || !device.isGpu();
        }

        /** How the loader's worker threads are placed: priority (data.loader-priority) and CPUs. */
        public BatchLoader.WorkerSetup loaderSetup() {
            return placement.loaderSetup(cfg.data().idleLoader(cpuReplica()));
        }
    }

    /** What differs between pretraining and fine-tuning; B is a micro-batch. */
    interface Job<B> {
        /** "pretrain" or "finetune": the metrics plots' title. */
        String title();

        Trainer trainer();

        /** Why replicas may start differently, for the agreement check's message. */
        String sameStart();

        int accumSteps();

        BatchAssembler<B> assembler();

        StepResult step(List<B> batch);

        /** Time of this step in cross-replica statistics exchanges, NaN when not measured. */
        default double takeSyncMs() {
            return Double.NaN;
        }

        /** The evaluation due after the trainer's current step, or null; every rank calls it at every step. */
        Event.Evaluation evaluateIfDue(Context ctx, boolean last) throws IOException;

        /** Checkpoint metadata beside the data position. */
        Map<String, String> checkpointExtra();
    }

    static <B> Summary run(Context ctx, SampleSource data, Schedule schedule, Job<B> job) throws IOException {
        long start = System.nanoTime();
        PretrainConfig cfg = ctx.cfg();
        Collective c = ctx.collective();
        Trainer trainer = job.trainer();
        Consumer<String> log = line -> ctx.log().accept("rank " + ctx.rank() + ": " + line);
        CheckpointStore store = cfg.train().output() == null ? null
                : new CheckpointStore(ctx.hadoop(), new Path(cfg.train().output(), "checkpoints"),
                        cfg.checkpoint().keep(), ctx.log());
        agree(c, checksum(trainer), "the replicas' initial parameters differ (checksums %s): they must be built from"
                + " the same " + job.sameStart());
        long resumedFrom = CheckpointStore.resume(ctx.hadoop(), store, ctx.resume(),
                (in, source) -> trainer.restore(in, source).step(), log);
        agree(c, trainer.step(), "the replicas resumed at different steps (%s)");
        MetricsSink metrics = new MetricsSink(ctx.hadoop(), cfg.train().output(), ctx.rank() == 0, trainer.step(),
                job.title(), ctx.events(), log);
        metrics.accept(new Event.Placement(ctx.placement().note()));
        String lastCheckpoint = null;
        if (resumedFrom >= 0) {
            lastCheckpoint = store != null ? new Path(store.dir(), CheckpointStore.fileName(trainer.step())).toString()
                    : ctx.resume();
            metrics.accept(new Event.Resumed(trainer.step(), lastCheckpoint));
        }
        if (c != null) {
            AllReduceBenchmark.Preflight p = AllReduceBenchmark.preflight(c, trainer.gradientSize() * 4);
            metrics.accept(new Event.Preflight(p.bytes(), p.seconds() * 1000, p.busGiBps(), p.ranks()));
        }
        long total = schedule.totalSteps();
        double lastLoss = Double.NaN;
        long firstStep = trainer.step();
        double computeMs = 0;
        double reduceMs = 0;
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
                // the mean of this run's steps 6-15: the first ones run while the JIT compiles
                long runStep = trainer.step() - firstStep;
                if (runStep > TIMING_SKIP && runStep <= TIMING_SKIP + TIMING_STEPS) {
                    computeMs += r.forwardBackwardMs() + r.updateMs();
                    reduceMs += r.reduceMs();
                    if (c != null && runStep == TIMING_SKIP + TIMING_STEPS) {
                        metrics.accept(new Event.StepTiming(computeMs / TIMING_STEPS, reduceMs / TIMING_STEPS));
                    }
                }
                metrics.accept(Event.Step.of(r, ctx.replicas(), job.takeSyncMs(), loadMs, cpuMs));
                boolean last = trainer.step() >= total;
                Event.Evaluation ev = job.evaluateIfDue(ctx, last);
                if (ev != null) {
                    metrics.accept(ev);
                }
                String saved = checkpointIfDue(ctx, store, trainer, last, job.checkpointExtra(), metrics);
                lastCheckpoint = saved != null ? saved : lastCheckpoint;
            }
        }
        if (decoded != null) {
            log.accept(decoded.describe() + (data instanceof ShardSource s ? "; " + s.samplesRead()
                    + " samples read from the shards" : ""));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long images = (trainer.step() - firstStep) * (long) schedule.globalBatch();
        return new Summary(ctx.rank(), trainer.step(), resumedFrom, lastLoss, lastCheckpoint, checksum(trainer),
                seconds, images / seconds, ProcessHandle.current().pid(), ctx.placement().note());
    }

    /**
     * Every checkpoint.every-steps steps and at the end: rank 0 writes the checkpoint (with the
     * data position) and the metrics since the last one; every rank returns the checkpoint's path.
     * Returns null when no checkpoint is due.
     */
    private static String checkpointIfDue(Context ctx, CheckpointStore store, Trainer trainer, boolean last,
            Map<String, String> extra, MetricsSink metrics) throws IOException {
        long step = trainer.step();
        if (store == null || (step % ctx.cfg().checkpoint().everySteps() != 0 && !last)) {
            return null;
        }
        if (ctx.rank() != 0) {
            return new Path(store.dir(), CheckpointStore.fileName(step)).toString();
        }
        Map<String, String> all = new java.util.HashMap<>(extra);
        all.put("data.position", Long.toString(step));
        String path = store.save(step, out -> trainer.save(out, all)).toString();
        metrics.flush(step);
        metrics.accept(new Event.Checkpoint(step, path));
        return path;
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
