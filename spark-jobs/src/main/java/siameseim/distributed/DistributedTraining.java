package siameseim.distributed;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import siameseim.collective.Handshake;
import siameseim.config.ConfigError;
import siameseim.config.PretrainConfig;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.SubsetManifest;
import siameseim.events.Console;
import siameseim.events.Event;
import siameseim.events.EventCodec;
import siameseim.events.Summary;
import siameseim.train.Schedule;
import siameseim.spark.Barrier;
import siameseim.spark.SparkSessions;

/**
 * The driver of a training run (pretraining or fine-tuning): validates inputs, starts the
 * progress listener, runs one barrier stage of {@code distributed.replicas} tasks and reports.
 * Spark retries the whole stage when a task fails (a lost executor, a lost peer); every replica
 * then resumes from the newest good checkpoint.
 */
public final class DistributedTraining {
    private DistributedTraining() {}

    /** What is trained. */
    public enum Kind {
        PRETRAIN("pretrain", "SiameseIM pretraining"),
        FINETUNE("finetune", "fine-tuning");

        final String tag;
        final String title;

        Kind(String tag, String title) {
            this.tag = tag;
            this.title = title;
        }

        /** The split a run trains on: data.split for pretraining, eval.train-split for fine-tuning. */
        String trainSplit(PretrainConfig cfg) {
            return this == PRETRAIN ? cfg.data().split() : cfg.eval().trainSplit();
        }

        /** The run's length over {@code images} training images; the driver and every replica use it. */
        Schedule schedule(PretrainConfig cfg, long images) {
            String split = "split '" + trainSplit(cfg) + "' of " + cfg.data().path();
            return this == PRETRAIN
                    ? Schedule.of(images, cfg.optim().batchSize(), cfg.optim().epochs(), cfg.train().maxSteps(),
                            "optim.batch-size", split)
                    : Schedule.of(images, cfg.finetune().batchSize(), cfg.finetune().epochs(), cfg.train().maxSteps(),
                            "finetune.batch-size", split);
        }
    }

    /** The outcome: one summary per replica, and the evaluations rank 0 reported. */
    public record Result(List<Summary> replicas, double seconds, List<Event.Evaluation> evaluations) {
        public Summary rank0() {
            return replicas.get(0);
        }
    }

    public static Result run(SparkSession spark, PretrainConfig cfg, String resume, Consumer<String> out)
            throws IOException {
        return run(spark, cfg, resume, out, Kind.PRETRAIN);
    }

    public static Result run(SparkSession spark, PretrainConfig cfg, String resume, Consumer<String> out, Kind kind)
            throws IOException {
        if (cfg.data().path() == null) {
            throw new ConfigError("data.path", "is not set: give the prepared dataset (--dataset DIR)");
        }
        if (cfg.train().output() == null) {
            throw new ConfigError("train.output", "is not set: give the run folder (--output DIR)");
        }
        long start = System.nanoTime();
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        cfg = qualifyPaths(cfg, conf);
        Manifest m = Manifest.read(conf, new Path(cfg.data().path()));
        String split = kind.trainSplit(cfg);
        long size = cfg.data().subset() == null ? m.split(split).images()
                : SubsetManifest.read(conf, new Path(cfg.data().subset())).size();
        int n = cfg.distributed().replicas();
        StageChecks.beforeStage(cfg, conf, m, kind);
        Schedule schedule = kind.schedule(cfg, size);
        int batch = schedule.globalBatch();
        long stepsPerEpoch = schedule.stepsPerEpoch();
        long total = schedule.totalSteps();
        writeRunConfig(conf, cfg);
        out.accept(String.format(Locale.ROOT, "[%s] %d replicas x %d images per step (global batch %d), %d"
                + " images, %d steps per epoch, %d steps; output %s", kind.tag, n, batch / n, batch, size,
                stepsPerEpoch, total, cfg.train().output()));
        String mixing = m.classes().isEmpty() ? null // unlabelled: no classes to mix
                : StageChecks.mixingWarning(cfg, conf, m, split, batch / n, stepsPerEpoch, n);
        if (mixing != null) {
            out.accept("[" + kind.tag + "] warning: " + mixing);
        }

        byte[] secret = Handshake.newSecret();
        String driverHost = spark.sparkContext().getConf().get("spark.driver.host", "127.0.0.1");
        Console console = new Console(kind.tag, total, stepsPerEpoch, cfg.train().logEverySeconds(), out);
        List<Event.Evaluation> evaluations = java.util.Collections.synchronizedList(new ArrayList<>());
        FaultReporter faults = new FaultReporter(console);
        spark.sparkContext().addSparkListener(faults);
        try (ProgressChannel.Server progress = new ProgressChannel.Server(driverHost, secret,
                l -> {
                    Event event = decode(l, out);
                    if (event != null) {
                        faults.onEvent(event);
                        if (event instanceof Event.Evaluation ev) {
                            evaluations.add(ev);
                        }
                        console.accept(event);
                    }
                }, out)) {
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            jsc.setJobGroup("siameseim-" + kind.tag, String.format(Locale.ROOT, "%s: %d replicas, %s -> %s",
                    kind.title, n, cfg.data().path(), cfg.train().output()), true);
            List<Integer> ranks = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                ranks.add(r);
            }
            ReplicaTask task = new ReplicaTask(kind, cfg, SparkSessions.hadoopConf(spark),
                    secret, progress.address(), resume);
            List<Summary> summaries;
            try {
                summaries = Barrier.collectRetryable(Barrier.mapPartitions(jsc.parallelize(ranks, n), task,
                        Summary.class));
            } catch (Exception e) {
                // Scala rethrows SparkException without declaring it
                throw explain(e, n, kind.tag);
            } finally {
                jsc.clearJobGroup();
            }
            List<Summary> sorted = new ArrayList<>(summaries);
            sorted.sort(java.util.Comparator.comparingInt(Summary::rank));
            for (Summary s : sorted) {
                if (s.parameterChecksum() != sorted.get(0).parameterChecksum()) {
                    throw new IllegalStateException("replica " + s.rank() + " ended with other parameters than replica 0");
                }
            }
            return new Result(sorted, (System.nanoTime() - start) / 1e9, List.copyOf(evaluations));
        } finally {
            spark.sparkContext().removeSparkListener(faults);
        }
    }

    /**
     * Says on the driver's console what Spark does about a fault: which executor was lost, at
     * which step of training, the newest checkpoint the retry will resume from, and each retry
     * of the barrier stage (the replicas then report where they resumed).
     */
    static final class FaultReporter extends org.apache.spark.scheduler.SparkListener {
        private final Console console;
        private final java.util.concurrent.atomic.AtomicLong step = new java.util.concurrent.atomic.AtomicLong();
        private final java.util.concurrent.atomic.AtomicLong checkpoint = new java.util.concurrent.atomic.AtomicLong(-1);
        private final java.util.Set<Integer> stages = java.util.concurrent.ConcurrentHashMap.newKeySet();

        FaultReporter(Console console) {
            this.console = console;
        }

        void onEvent(Event e) {
            if (e instanceof Event.Step s) {
                step.set(s.step());
            } else if (e instanceof Event.Resumed r) {
                step.set(r.step());
                checkpoint.set(r.step());
            } else if (e instanceof Event.Checkpoint c) {
                checkpoint.set(c.step());
            }
        }

        @Override
        public void onExecutorRemoved(org.apache.spark.scheduler.SparkListenerExecutorRemoved e) {
            console.accept(new Event.Fault(e.executorId(), step.get(), e.reason(), checkpoint.get()));
        }

        @Override
        public void onStageSubmitted(org.apache.spark.scheduler.SparkListenerStageSubmitted e) {
            org.apache.spark.scheduler.StageInfo info = e.stageInfo();
            if (info.attemptNumber() > 0 && stages.contains(info.stageId())) {
                console.line(String.format(Locale.ROOT, "barrier stage %d, attempt %d of at most %s"
                        + " (spark.stage.maxConsecutiveAttempts)", info.stageId(), info.attemptNumber() + 1,
                        org.apache.spark.SparkEnv.get().conf().get("spark.stage.maxConsecutiveAttempts", "4")));
            }
            stages.add(info.stageId());
        }
    }

    /**
     * Paths as fully qualified URIs: executors run in other working directories (and on other
     * machines), where a relative path means something else.
     */
    static PretrainConfig qualifyPaths(PretrainConfig cfg, Configuration conf) {
        return cfg.withPaths(path -> {
            Path p = new Path(path);
            try {
                return p.getFileSystem(conf).makeQualified(p).toString();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot resolve " + path + ": " + e.getMessage(), e);
            }
        });
    }

    /** Too few slots and lost replicas get a message a user can act on. */
    public static RuntimeException explain(Exception e, int replicas, String job) {
        String msg = String.valueOf(e.getMessage());
        if (msg.contains("BarrierJobSlotsNumberCheckFailed") || msg.contains("requires more slots")) {
            return new IllegalStateException(job + " needs " + replicas + " task slots at once (one per replica,"
                    + " distributed.replicas = " + replicas + ") but the cluster has fewer: lower distributed.replicas"
                    + " or add executors/cores (local[N] gives N slots)", e);
        }
        java.util.regex.Matcher retried = java.util.regex.Pattern
                .compile("has failed the maximum allowable number of times: (\\d+)").matcher(msg);
        String reason = executorFailure(msg);
        if (retried.find() && reason != null) {
            return new IllegalStateException(String.format(Locale.ROOT, "%s failed %s times (Spark retried the"
                    + " barrier stage, each time from the newest checkpoint; spark.stage.maxConsecutiveAttempts);"
                    + " last failure: %s", job, retried.group(1), reason), e);
        }
        String cause = reason != null ? reason : rootMessage(e);
        return new IllegalStateException(job + " failed: " + cause, e);
    }

    /** The executor-side exception inside a Spark job failure message, without its class name. */
    static String executorFailure(String sparkMessage) {
        java.util.regex.Matcher m = java.util.regex.Pattern
                .compile("(?m)^(?:[a-z][\\w$]*\\.)+[A-Z][\\w$]*(?:Exception|Error): (.+)$").matcher(sparkMessage);
        String found = null;
        while (m.find()) {
            String line = m.group(1).strip();
            if (!line.startsWith("Job aborted")) {
                found = line;
                break;
            }
        }
        return found;
    }

    static String rootMessage(Throwable e) {
        String best = e.getMessage();
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c.getMessage() != null && (c instanceof siameseim.collective.CollectiveException
                    || c instanceof IOException || c instanceof IllegalStateException
                    || c instanceof IllegalArgumentException)) {
                best = c.getMessage();
            }
        }
        return best;
    }

    /** A replica's event line; null (and a note on the console) for a line that is not one. */
    static Event decode(String line, Consumer<String> out) {
        try {
            return EventCodec.decode(line);
        } catch (IllegalArgumentException e) {
            out.accept("[progress] ignored: " + e.getMessage());
            return null;
        }
    }

    /** The resolved config beside the checkpoints (the run is reproducible from it). */
    static void writeRunConfig(Configuration conf, PretrainConfig cfg) throws IOException {
        Path p = new Path(cfg.train().output(), "config.json");
        try (OutputStream os = p.getFileSystem(conf).create(p, true)) {
            os.write((cfg.json() + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }
}
