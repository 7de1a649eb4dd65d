package siameseim.distributed;

import ai.djl.Device;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.zip.CRC32C;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumFileSystem;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import siameseim.checkpoint.CheckpointFormat;
import siameseim.checkpoint.CheckpointStore;
import siameseim.collective.Collective;
import siameseim.config.EvalConfig;
import siameseim.config.PretrainConfig;
import siameseim.eval.Knn;
import siameseim.datasets.augment.TwoViewAugmenter;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.loader.BatchLoader;
import siameseim.datasets.loader.DecodedCache;
import siameseim.datasets.loader.SiameseAssembler;
import siameseim.model.siameseim.SiameseBatch;
import siameseim.datasets.loader.SampleSource;
import siameseim.datasets.loader.ShardSource;
import siameseim.model.io.Safetensors;
import siameseim.model.nn.CrossReplicaMean;
import siameseim.model.nn.Param;
import siameseim.model.nn.Torch;
import siameseim.model.optim.GradientReducer;
import siameseim.train.Pretrainer;
import siameseim.metrics.MetricsHistory;
import siameseim.metrics.TensorBoardEvents;
import siameseim.metrics.TrainingPlots;
import siameseim.train.StepResult;
import siameseim.train.Trainer;

/**
 * One replica of a pretraining run: identical start (checked by a parameter checksum across
 * replicas), resume from the newest good checkpoint, a pre-flight measurement of the links, then
 * the training loop. Rank 0 reports progress, writes checkpoints and metrics; all replicas stay
 * bit-identical because every reduction returns the same bits everywhere. Independent of Spark:
 * the caller supplies rank, collectives and data.
 */
public final class ReplicaTrainer {
    private static final java.lang.management.ThreadMXBean THREAD_CPU =
            java.lang.management.ManagementFactory.getThreadMXBean();

    private ReplicaTrainer() {}

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

    /** What a replica did. */
    public record Summary(int rank, long steps, long resumedFrom, double finalLoss, String checkpoint,
            long parameterChecksum, double seconds, double imagesPerSecond, long pid, String placement)
            implements Serializable {}

    public static Summary run(Context ctx, SampleSource data) throws IOException {
        return run(ctx, data, null);
    }

    /** @param monitor kNN of the online encoder every eval.knn.every-steps steps, or null */
    static Summary run(Context ctx, SampleSource data, KnnMonitor monitor) throws IOException {
        long start = System.nanoTime();
        PretrainConfig cfg = ctx.cfg();
        Torch.init(cfg.train().threads());
        Collective c = ctx.collective();
        GradientReducer reducer = c == null ? GradientReducer.IDENTITY : CollectiveReduction.gradients(c);
        CollectiveReduction.Statistics timed = c == null ? null : CollectiveReduction.statistics(c);
        CrossReplicaMean stats = timed == null ? CrossReplicaMean.SINGLE : timed;
        int globalBatch = cfg.optim().batchSize();
        long stepsPerEpoch = data.size() / globalBatch;
        if (stepsPerEpoch < 1) {
            throw new IllegalArgumentException("the dataset has " + data.size() + " images, fewer than one global batch"
                    + " (optim.batch-size = " + globalBatch + ")");
        }
        CheckpointStore store = store(ctx);
        try (Pretrainer trainer = new Pretrainer(cfg, stepsPerEpoch, reducer, stats, ctx.device())) {
            long initial = checksum(trainer);
            agree(c, initial, "the replicas' initial parameters differ (checksums %s): they must be built from"
                    + " the same config and seed");
            long resumedFrom = resume(ctx, store, trainer);
            agree(c, trainer.step(), "the replicas resumed at different steps (%s)");
            if (resumedFrom >= 0) {
                event(ctx, "resumed", Map.of("step", trainer.step(), "checkpoint", store != null
                        ? new Path(store.dir(), CheckpointStore.fileName(trainer.step())).toString()
                        : String.valueOf(ctx.resume())));
            }
            if (c != null) {
                preflight(ctx, c, trainer);
            }
            long total = trainer.totalSteps();
            if (cfg.train().maxSteps() > 0) {
                total = Math.min(total, cfg.train().maxSteps());
            }
            String lastCheckpoint = resumedFrom >= 0 && store != null
                    ? new Path(store.dir(), CheckpointStore.fileName(trainer.step())).toString() : null;
            double lastLoss = Double.NaN;
            long imagesStart = trainer.step();
            MetricsLog metrics = new MetricsLog(ctx, trainer.step(), "pretrain");
            Map<String, String> extra = Map.of("replicas", Integer.toString(ctx.replicas()), "global_batch",
                    Integer.toString(globalBatch));
            TwoViewAugmenter augmenter = new TwoViewAugmenter(cfg);
            long knnEvery = monitor == null ? 0 : EvalConfig.from(cfg.source()).knn().everySteps();
            double computeMs = 0;
            double reduceMs = 0;
            DecodedCache decoded = decodedCache(cfg, data);
            try (BatchLoader<SiameseBatch> loader = new BatchLoader<>(data, new SiameseAssembler(augmenter),
                    ImageDecoder.named(cfg.data().decoder()), globalBatch, cfg.optim().accumSteps(), ctx.rank(),
                    ctx.replicas(), cfg.train().seed(), trainer.step(), cfg.data().loaderThreads(),
                    cfg.data().prefetchBatches(), ctx.loaderSetup(), decoded)) {
                while (trainer.step() < total) {
                    long waitFrom = System.nanoTime();
                    List<SiameseBatch> batch = loader.next();
                    double loadMs = (System.nanoTime() - waitFrom) / 1e6;
                    if (trainer.step() == imagesStart) {
                        reportLoaderPlacement(ctx, loader);
                    }
                    long cpuFrom = THREAD_CPU.getCurrentThreadCpuTime();
                    StepResult r = trainer.step(batch);
                    double cpuMs = (THREAD_CPU.getCurrentThreadCpuTime() - cpuFrom) / 1e6;
                    loader.recycle(batch); // step() copied the views into tensors
                    lastLoss = r.loss();
                    // the mean of this run's steps 6-15: the first ones run while the JIT compiles
                    long runStep = trainer.step() - imagesStart;
                    if (runStep > TIMING_SKIP && runStep <= TIMING_SKIP + TIMING_STEPS) {
                        computeMs += r.forwardBackwardMs() + r.updateMs();
                        reduceMs += r.reduceMs();
                        if (c != null && runStep == TIMING_SKIP + TIMING_STEPS && ctx.rank() == 0) {
                            event(ctx, "step-timing", Map.of("compute_ms", computeMs / TIMING_STEPS,
                                    "allreduce_ms", reduceMs / TIMING_STEPS));
                        }
                    }
                    metrics.step(r, new Waits(timed == null ? Double.NaN : timed.takeMs(), loadMs, cpuMs));
                    if (knnEvery > 0 && (trainer.step() % knnEvery == 0 || trainer.step() >= total)) {
                        Knn.Accuracy a = monitor.run(ctx, trainer.model().encoder());
                        if (a != null) {
                            Map<String, Object> e = Map.of("step", trainer.step(), "epoch", trainer.epoch(), "top1",
                                    a.top1(), "top5", a.top5(), "images", (long) a.count());
                            event(ctx, "knn", e);
                            metrics.event("knn", e);
                        }
                    }
                    String saved = checkpointIfDue(ctx, store, trainer, trainer.step() >= total, extra, metrics);
                    lastCheckpoint = saved != null ? saved : lastCheckpoint;
                }
            }
            if (decoded != null) {
                ctx.log().accept("replica " + ctx.rank() + ": " + decoded.describe()
                        + (data instanceof ShardSource s ? "; " + s.samplesRead() + " samples read from the shards" : ""));
            }
            long end = System.nanoTime();
            double seconds = (end - start) / 1e9;
            long images = (trainer.step() - imagesStart) * (long) globalBatch;
            return new Summary(ctx.rank(), trainer.step(), resumedFrom, lastLoss, lastCheckpoint, checksum(trainer),
                    seconds, images / seconds, ProcessHandle.current().pid(), ctx.placement().note());
        }
    }

    /** The loader's cache of decoded pixels (data.decoded-cache-mb), or null when it is 0. */
    static DecodedCache decodedCache(PretrainConfig cfg, SampleSource data) {
        long bytes = cfg.data().decodedCacheBytes();
        return bytes <= 0 ? null : new DecodedCache(bytes, data.size());
    }

    /** Warns, once the loader's workers have started, when their priority or CPUs were refused. */
    static void reportLoaderPlacement(Context ctx, BatchLoader<?> loader) {
        String refused = loader.setupRefused();
        if (refused != null) {
            ctx.log().accept("replica " + ctx.rank() + ": loader threads not placed as asked (" + refused
                    + "); they share the training cores by time-slicing");
        }
    }

    /** The run's checkpoint folder, or null for a run without output. */
    static CheckpointStore store(Context ctx) {
        return ctx.cfg().train().output() == null ? null
                : new CheckpointStore(ctx.hadoop(), new Path(ctx.cfg().train().output(), "checkpoints"),
                        ctx.cfg().checkpoint().keep(), ctx.log());
    }

    /**
     * Every checkpoint.every-steps steps and at the end: rank 0 writes the checkpoint (with the
     * data position) and the metrics since the last one; every rank returns the checkpoint's path.
     * Returns null when no checkpoint is due.
     */
    static String checkpointIfDue(Context ctx, CheckpointStore store, Trainer trainer, boolean last,
            Map<String, String> extra, MetricsLog metrics) throws IOException {
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
        event(ctx, "checkpoint", Map.of("step", step, "path", path));
        return path;
    }

    /**
     * Rank 0's step and evaluation lines: sent to the driver at once; at each checkpoint written
     * as a JSON-lines file, a TensorBoard event file of the same interval, and the PNG plots of
     * the whole run so far (rebuilt from the earlier metrics files after a resume).
     */
    static final class MetricsLog {
        private final Context ctx;
        private final String title;
        private final List<String> lines = new ArrayList<>();
        private final List<TensorBoardEvents.Scalar> scalars = new ArrayList<>();
        private final MetricsHistory history = new MetricsHistory();
        private long from;

        MetricsLog(Context ctx, long from, String title) {
            this.ctx = ctx;
            this.from = from;
            this.title = title;
            if (ctx.rank() == 0 && from > 0 && ctx.cfg().train().output() != null) {
                for (String line : readMetrics(ctx, from)) {
                    history.add(line);
                }
            }
        }

        void step(StepResult r) {
            step(r, Waits.NONE);
        }

        void step(StepResult r, Waits w) {
            if (ctx.rank() == 0) {
                add(stepJson(r, ctx.replicas(), w));
                ctx.events().accept(lines.get(lines.size() - 1));
            }
        }

        void event(String type, Map<String, ?> fields) {
            if (ctx.rank() == 0) {
                add(eventJson(type, fields));
            }
        }

        private void add(String line) {
            lines.add(line);
            scalars.addAll(history.add(line));
        }

        void flush(long to) {
            writeMetrics(ctx, lines, from, to);
            Path out = new Path(ctx.cfg().train().output());
            try {
                Path events = new Path(out, String.format(Locale.ROOT, "tensorboard/events.out.tfevents.%010d.siameseim",
                        from));
                // not through the local file system's checksum layer: TensorBoard would also read
                // its ".crc" side file, whose name contains "tfevents" too
                FileSystem fs = events.getFileSystem(ctx.hadoop());
                if (fs instanceof ChecksumFileSystem checksummed) {
                    fs = checksummed.getRawFileSystem();
                }
                try (OutputStream os = fs.create(events, true)) {
                    os.write(TensorBoardEvents.file(scalars, System.currentTimeMillis() / 1000.0));
                }
                TrainingPlots.write(history, ctx.hadoop(), new Path(out, "plots"), title);
            } catch (IOException | RuntimeException e) {
                ctx.log().accept("could not write TensorBoard events or plots under " + out + ": " + e.getMessage());
            }
            lines.clear();
            scalars.clear();
            from = to;
        }
    }

    private static final java.util.regex.Pattern METRICS_FILE =
            java.util.regex.Pattern.compile("steps-(\\d+)-(\\d+)\\.jsonl");

    /** The lines of the run's metrics files that end at or before {@code upTo}, in step order. */
    static List<String> readMetrics(Context ctx, long upTo) {
        Path out = new Path(ctx.cfg().train().output());
        try {
            return readMetrics(ctx.hadoop(), out, upTo);
        } catch (IOException e) {
            ctx.log().accept("could not read earlier metrics under " + out + "/metrics: " + e.getMessage());
            return new ArrayList<>();
        }
    }

    /**
     * The JSON lines of the metrics files under {@code runOutput}/metrics that end at or before
     * {@code upTo}, in step order; none when the folder does not exist.
     */
    public static List<String> readMetrics(Configuration hadoop, Path runOutput, long upTo) throws IOException {
        List<String> out = new ArrayList<>();
        Path dir = new Path(runOutput, "metrics");
        FileSystem fs = dir.getFileSystem(hadoop);
        if (!fs.exists(dir)) {
            return out;
        }
        List<Path> files = new ArrayList<>();
        for (org.apache.hadoop.fs.FileStatus st : fs.listStatus(dir)) {
            java.util.regex.Matcher mt = METRICS_FILE.matcher(st.getPath().getName());
            if (mt.matches() && Long.parseLong(mt.group(2)) <= upTo) {
                files.add(st.getPath());
            }
        }
        files.sort(java.util.Comparator.comparing(Path::getName));
        for (Path f : files) {
            try (java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(fs.open(f),
                    StandardCharsets.UTF_8))) {
                r.lines().forEach(out::add);
            }
        }
        return out;
    }

    /** Loads the explicit checkpoint, or else the newest good one in the store; returns its step or -1. */
    static long resume(Context ctx, CheckpointStore store, Trainer trainer) throws IOException {
        if (ctx.resume() != null) {
            Path p = new Path(ctx.resume());
            FileSystem fs = p.getFileSystem(ctx.hadoop());
            if (fs.getFileStatus(p).isDirectory()) {
                CheckpointStore explicit = new CheckpointStore(ctx.hadoop(), p, Integer.MAX_VALUE, ctx.log());
                List<Path> candidates = explicit.resumeCandidates();
                if (candidates.isEmpty()) {
                    throw new IOException("--resume " + p + ": no checkpoint in that folder");
                }
                p = candidates.get(0);
            }
            try (InputStream in = fs.open(p)) {
                return trainer.restore(in, p.toString()).step();
            }
        }
        if (store == null) {
            return -1;
        }
        for (Path p : store.resumeCandidates()) {
            try (InputStream in = p.getFileSystem(ctx.hadoop()).open(p)) {
                long step = trainer.restore(in, p.toString()).step();
                ctx.log().accept("rank " + ctx.rank() + ": resumed from " + p + " at step " + step);
                return step;
            } catch (siameseim.model.io.CorruptFileException | org.apache.hadoop.fs.ChecksumException e) {
                // a damaged or partial file: never loaded, the next older one is tried
                ctx.log().accept("rank " + ctx.rank() + ": skipping checkpoint " + p + ": " + e.getMessage());
            } catch (IOException e) {
                // the storage failed, not the file: starting over from an older checkpoint (or from
                // scratch) would throw work away, so this attempt fails and Spark retries it
                throw new IOException("could not read checkpoint " + p + " (a storage error, not a damaged"
                        + " file): " + e.getMessage(), e);
            }
        }
        return -1;
    }

    /** The per-step timing line averages this many steps after the first {@link #TIMING_SKIP} of a run. */
    static final int TIMING_STEPS = 10;
    static final int TIMING_SKIP = 5;

    /** Bytes the pre-flight all-reduces before it times (see {@link #preflight}). */
    static final long PREFLIGHT_WARMUP_BYTES = 64L << 20;

    /**
     * All-reduces a buffer of the gradient's size and reports the bus bandwidth. The timed calls
     * come after warm-up calls that together reduce at least {@value #PREFLIGHT_WARMUP_BYTES} bytes
     * (at least 3 calls, at most 30; the same count on every replica, from the gradient's size):
     * after a single call the summing loops still ran interpreted, and a demo run reported 8-24
     * ms for an all-reduce that takes 0.5-1.7 ms once compiled.
     */
    static void preflight(Context ctx, Collective c, Trainer trainer) {
        long floats = trainer.gradientSize();
        ByteBuffer b = ByteBuffer.allocateDirect(Math.toIntExact(floats * 4)).order(ByteOrder.nativeOrder());
        long warmup = Math.max(3, Math.min(30, PREFLIGHT_WARMUP_BYTES / Math.max(1, floats * 4)));
        for (long i = 0; i < warmup; i++) {
            c.allReduceSum(b);
        }
        double[] t = new double[5];
        for (int i = 0; i < t.length; i++) {
            long s = System.nanoTime();
            c.allReduceSum(b);
            t[i] = (System.nanoTime() - s) / 1e9;
        }
        Arrays.sort(t);
        double sec = t[t.length / 2];
        int n = c.size();
        double bus = floats * 4.0 * 2 * (n - 1) / n / sec / (1L << 30);
        if (ctx.rank() == 0) {
            event(ctx, "preflight", Map.of("bytes", floats * 4, "allreduce_ms", sec * 1000, "bus_gibps", bus,
                    "replicas", n));
        }
    }

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

    /**
     * Where a step's time went besides its own compute (NaN: not measured): in the cross-replica
     * statistics exchanges (mostly waiting for the slowest replica), waiting for the batch, and
     * the training thread's CPU time (less than the step's wall time when it was descheduled).
     */
    record Waits(double syncMs, double loadMs, double cpuMs) {
        static final Waits NONE = new Waits(Double.NaN, Double.NaN, Double.NaN);
    }

    /** A step as one JSON line; values a trainer does not have (NaN) are left out. */
    static String stepJson(StepResult r, int replicas, Waits w) {
        JsonObject o = new JsonObject();
        o.addProperty("type", "step");
        o.addProperty("step", r.step() + 1);
        o.addProperty("epoch", r.epoch());
        putFinite(o, "loss", r.loss());
        putFinite(o, "pos", r.pos());
        putFinite(o, "neg", r.neg());
        putFinite(o, "lr", r.lr());
        putFinite(o, "momentum", r.momentum());
        putFinite(o, "grad_norm", r.gradNorm());
        o.addProperty("skipped", r.skipped());
        o.addProperty("images", r.images() * replicas);
        o.addProperty("compute_ms", r.forwardBackwardMs() + r.updateMs());
        o.addProperty("allreduce_ms", r.reduceMs());
        putFinite(o, "sync_ms", w.syncMs());
        putFinite(o, "load_ms", w.loadMs());
        putFinite(o, "cpu_ms", w.cpuMs());
        o.addProperty("time", System.currentTimeMillis() / 1000.0);
        return o.toString();
    }

    private static void putFinite(JsonObject o, String key, double v) {
        if (Double.isFinite(v)) {
            o.addProperty(key, v);
        }
    }

    static void event(Context ctx, String type, Map<String, ?> fields) {
        if (ctx.rank() == 0) {
            ctx.events().accept(eventJson(type, fields));
        }
    }

    static String eventJson(String type, Map<String, ?> fields) {
        JsonObject o = new JsonObject();
        o.addProperty("type", type);
        fields.forEach((k, v) -> {
            if (v instanceof Number num) {
                o.addProperty(k, num);
            } else {
                o.addProperty(k, String.valueOf(v));
            }
        });
        return o.toString();
    }

    /** Metrics of steps (from, to] as one JSON-lines part file (no appends: S3 has none). */
    static void writeMetrics(Context ctx, List<String> lines, long from, long to) {
        Path p = new Path(ctx.cfg().train().output(), String.format(Locale.ROOT, "metrics/steps-%010d-%010d.jsonl",
                from, to));
        try (OutputStream out = p.getFileSystem(ctx.hadoop()).create(p, true)) {
            for (String l : lines) {
                out.write((l + "\n").getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            ctx.log().accept("could not write metrics " + p + ": " + e.getMessage());
        }
    }

    /** Exposed for tests: a checkpoint's progress without a model. */
    static CheckpointFormat.Progress progressOf(Configuration conf, Path p) throws IOException {
        try (InputStream in = p.getFileSystem(conf).open(p);
                ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
            return CheckpointFormat.read(in, m, p.toString()).progress();
        }
    }
}
