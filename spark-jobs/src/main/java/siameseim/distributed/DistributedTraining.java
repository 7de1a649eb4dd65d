package siameseim.distributed;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
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
import siameseim.config.EvalConfig;
import siameseim.config.ConfigLoader;
import siameseim.config.FinetuneConfig;
import siameseim.config.PretrainConfig;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.SubsetManifest;
import siameseim.jobs.ProgressLine;
import siameseim.spark.Barrier;
import siameseim.spark.SparkSessions;
import siameseim.train.StepResult;

/**
 * The driver of a training run (pretraining or fine-tuning): validates inputs, starts the
 * progress listener, runs one barrier stage of {@code distributed.replicas} tasks and reports.
 * Spark retries the whole stage when a task fails (a lost executor, a lost peer); every replica
 * then resumes from the newest good checkpoint.
 */
public final class DistributedTraining {
    private DistributedTraining() {}

    /** Batches of each checked replica that {@link #mixingWarning} reads the labels of. */
    private static final int CHECKED_BATCHES = 8;

    /**
     * The labels of the first batches of replica 0 and the last replica in epoch 0's order, read
     * on the driver from the shards' label column, against uniform samples (BatchMixing); a warning
     * naming the dataset and what to do, or null.
     */
    static String mixingWarning(PretrainConfig cfg, Configuration conf, Manifest m, String split, int localBatch,
            long stepsPerEpoch, int replicas) throws IOException {
        siameseim.datasets.loader.ShardSource src = ReplicaTask.data(cfg, conf, split, cfg.data().subset());
        long[] perClass = cfg.data().subset() == null ? m.split(split).perClass()
                : SubsetManifest.read(conf, new Path(cfg.data().subset())).perClass();
        int take = (int) Math.min(CHECKED_BATCHES, stepsPerEpoch) * localBatch;
        int[] labels = new int[0];
        for (int r : replicas == 1 ? new int[] {0} : new int[] {0, replicas - 1}) {
            int from = Math.toIntExact(r * stepsPerEpoch * localBatch);
            int[] l = src.labels(0, cfg.train().seed(), from, from + take);
            int[] both = java.util.Arrays.copyOf(labels, labels.length + l.length);
            System.arraycopy(l, 0, both, labels.length, l.length);
            labels = both;
        }
        int interleave = cfg.data().interleaveFor(m.rowOrder().shuffled());
        String what = cfg.data().path() + " split " + split + (cfg.data().subset() == null ? ""
                : " (subset " + cfg.data().subset() + ")") + ", rows stored " + m.rowOrder();
        return siameseim.datasets.loader.BatchMixing.warning(what, siameseim.datasets.loader.BatchMixing.of(labels,
                localBatch), perClass, localBatch, String.format(Locale.ROOT, "prepare the dataset again (it"
                + " stores rows in a uniform random order, prepare.row-order = shuffled), or raise data.interleave"
                + " (now %d) and data.shuffle-window (now %d)", interleave, cfg.data().shuffleWindow()));
    }

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
    }

    /** A top-1/top-5 measurement on the test split during fine-tuning. */
    public record Evaluation(double epoch, long step, double top1, double top5, long images) {}

    /** The outcome: one summary per replica, and the evaluations rank 0 reported. */
    public record Result(List<ReplicaTrainer.Summary> replicas, double seconds, List<Evaluation> evaluations) {
        public ReplicaTrainer.Summary rank0() {
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
        EvalConfig.from(cfg.source()); // the replicas read eval.* (kNN monitor, fine-tuning evaluation)
        if (cfg.train().output() == null) {
            throw new ConfigError("train.output", "is not set: give the run folder (--output DIR)");
        }
        long start = System.nanoTime();
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        cfg = qualifyPaths(cfg, conf);
        Manifest m = Manifest.read(conf, new Path(cfg.data().path()));
        String split = ReplicaTask.trainSplit(cfg, kind);
        long size = cfg.data().subset() == null ? m.split(split).images()
                : SubsetManifest.read(conf, new Path(cfg.data().subset())).size();
        int n = cfg.distributed().replicas();
        FinetuneConfig ft = kind == Kind.FINETUNE ? FinetuneConfig.from(cfg.source()) : null;
        int batch = ft == null ? cfg.optim().batchSize() : ft.batchSize();
        double epochs = ft == null ? cfg.optim().epochs() : ft.epochs();
        long stepsPerEpoch = size / batch;
        if (stepsPerEpoch < 1) {
            throw new ConfigError(ft == null ? "optim.batch-size" : "finetune.batch-size", "value " + batch
                    + " exceeds the " + size + " images of split '" + split + "' of " + cfg.data().path());
        }
        long total = (long) Math.ceil(epochs * stepsPerEpoch);
        if (cfg.train().maxSteps() > 0) {
            total = Math.min(total, cfg.train().maxSteps());
        }
        writeRunConfig(conf, cfg);
        out.accept(String.format(Locale.ROOT, "[%s] %d replicas x %d images per step (global batch %d), %d"
                + " images, %d steps per epoch, %d steps; output %s", kind.tag, n, batch / n, batch, size,
                stepsPerEpoch, total, cfg.train().output()));
        String mixing = mixingWarning(cfg, conf, m, split, batch / n, stepsPerEpoch, n);
        if (mixing != null) {
            out.accept("[" + kind.tag + "] warning: " + mixing);
        }

        byte[] secret = Handshake.newSecret();
        String driverHost = spark.sparkContext().getConf().get("spark.driver.host", "127.0.0.1");
        ProgressLine line = new ProgressLine(kind.tag, total, stepsPerEpoch, cfg.train().logEverySeconds());
        List<Evaluation> evaluations = java.util.Collections.synchronizedList(new ArrayList<>());
        FaultReporter faults = new FaultReporter(kind.tag, out);
        spark.sparkContext().addSparkListener(faults);
        try (ProgressChannel.Server progress = new ProgressChannel.Server(driverHost, secret,
                l -> {
                    JsonObject event = parseEvent(l);
                    if (event != null) {
                        faults.onEvent(event);
                        onEvent(event, line, kind.tag, evaluations, out);
                    }
                }, out)) {
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            jsc.setJobGroup("siameseim-" + kind.tag, String.format(Locale.ROOT, "%s: %d replicas, %s -> %s",
                    kind.title, n, cfg.data().path(), cfg.train().output()), true);
            List<Integer> ranks = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                ranks.add(r);
            }
            ReplicaTask task = new ReplicaTask(kind, ConfigLoader.toJson(cfg.source()), SparkSessions.hadoopConf(spark),
                    secret, progress.address(), resume);
            List<ReplicaTrainer.Summary> summaries;
            try {
                summaries = Barrier.collectRetryable(Barrier.mapPartitions(jsc.parallelize(ranks, n), task,
                        ReplicaTrainer.Summary.class));
            } catch (Exception e) {
                // Scala rethrows SparkException without declaring it
                throw explain(e, n, kind.tag);
            } finally {
                jsc.clearJobGroup();
            }
            List<ReplicaTrainer.Summary> sorted = new ArrayList<>(summaries);
            sorted.sort(java.util.Comparator.comparingInt(ReplicaTrainer.Summary::rank));
            for (ReplicaTrainer.Summary s : sorted) {
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
        private final String tag;
        private final Consumer<String> out;
        private final java.util.concurrent.atomic.AtomicLong step = new java.util.concurrent.atomic.AtomicLong();
        private final java.util.concurrent.atomic.AtomicLong checkpoint = new java.util.concurrent.atomic.AtomicLong(-1);
        private final java.util.Set<Integer> stages = java.util.concurrent.ConcurrentHashMap.newKeySet();

        FaultReporter(String tag, Consumer<String> out) {
            this.tag = tag;
            this.out = out;
        }

        void onEvent(JsonObject o) {
            String type = o.has("type") ? o.get("type").getAsString() : "";
            if ((type.equals("step") || type.equals("resumed")) && o.has("step")) {
                step.set(o.get("step").getAsLong());
            }
            if ((type.equals("checkpoint") || type.equals("resumed")) && o.has("step")) {
                checkpoint.set(o.get("step").getAsLong());
            }
        }

        @Override
        public void onExecutorRemoved(org.apache.spark.scheduler.SparkListenerExecutorRemoved e) {
            out.accept(String.format(Locale.ROOT, "[%s] executor %s lost at step %d (%s); Spark retries the barrier"
                    + " stage and the replicas resume from %s", tag, e.executorId(), step.get(), e.reason(),
                    checkpoint.get() >= 0 ? "the checkpoint of step " + checkpoint.get() : "the start"));
        }

        @Override
        public void onStageSubmitted(org.apache.spark.scheduler.SparkListenerStageSubmitted e) {
            org.apache.spark.scheduler.StageInfo info = e.stageInfo();
            if (info.attemptNumber() > 0 && stages.contains(info.stageId())) {
                out.accept(String.format(Locale.ROOT, "[%s] barrier stage %d, attempt %d of at most %s"
                        + " (spark.stage.maxConsecutiveAttempts)", tag, info.stageId(), info.attemptNumber() + 1,
                        org.apache.spark.SparkEnv.get().conf().get("spark.stage.maxConsecutiveAttempts", "4")));
            }
            stages.add(info.stageId());
        }
    }

    /**
     * Paths as fully qualified URIs: executors run in other working directories (and on other
     * machines), where a relative path means something else.
     */
    static PretrainConfig qualifyPaths(PretrainConfig cfg, Configuration conf) throws IOException {
        com.typesafe.config.Config c = cfg.source();
        for (String key : List.of("data.path", "data.subset", "train.output", "eval.weights")) {
            if (!c.getIsNull(key)) {
                Path p = new Path(c.getString(key));
                String q = p.getFileSystem(conf).makeQualified(p).toString();
                c = c.withValue(key, com.typesafe.config.ConfigValueFactory.fromAnyRef(q, "qualified " + key));
            }
        }
        return PretrainConfig.from(c);
    }

    /** Too few slots and lost replicas get a message a user can act on. */
    static RuntimeException explain(Exception e, int replicas, String job) {
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

    /** A replica's event line as JSON; null for anything else. */
    static JsonObject parseEvent(String json) {
        try {
            return JsonParser.parseString(json).getAsJsonObject();
        } catch (RuntimeException e) {
            return null;
        }
    }

    static void onEvent(JsonObject o, ProgressLine line, String tag, List<Evaluation> evaluations,
            Consumer<String> out) {
        String type = o.has("type") ? o.get("type").getAsString() : "";
        switch (type) {
            case "step" -> {
                StepResult r = new StepResult(o.get("step").getAsLong() - 1, o.get("epoch").getAsDouble(),
                        num(o, "loss"), num(o, "pos"), num(o, "neg"), num(o, "lr"), num(o, "momentum"),
                        num(o, "grad_norm"), o.get("skipped").getAsBoolean(), o.get("images").getAsInt(),
                        num(o, "compute_ms"), num(o, "allreduce_ms"), 0);
                String l = line.update(r, 1);
                if (l != null) {
                    out.accept(l);
                }
            }
            case "preflight" -> out.accept(String.format(Locale.ROOT, "[%s] pre-flight: all-reduce of the %.1f MB"
                    + " gradient across %d replicas takes %.2f ms (bus bandwidth %.2f GiB/s)", tag,
                    o.get("bytes").getAsDouble() / 1e6, o.get("replicas").getAsInt(), o.get("allreduce_ms").getAsDouble(),
                    o.get("bus_gibps").getAsDouble()));
            case "placement" -> out.accept("[" + tag + "] replica 0: " + o.get("note").getAsString());
            case "step-timing" -> {
                double c = o.get("compute_ms").getAsDouble();
                double a = o.get("allreduce_ms").getAsDouble();
                out.accept(String.format(Locale.ROOT, "[%s] per step: compute %.0f ms, gradient all-reduce %.1f ms"
                        + " (%.1f%% of the step)%s", tag, c, a, 100 * a / (a + c),
                        a > c ? ": the network dominates; use fewer, larger replicas or a faster network" : ""));
            }
            case "eval" -> {
                Evaluation ev = new Evaluation(num(o, "epoch"), o.get("step").getAsLong(), num(o, "top1"),
                        num(o, "top5"), o.get("images").getAsLong());
                evaluations.add(ev);
                out.accept(String.format(Locale.ROOT, "[%s] epoch %s: top-1 %.2f%%, top-5 %.2f%% on %d test images",
                        tag, ProgressLine.trim(Math.round(ev.epoch() * 100) / 100.0), 100 * ev.top1(),
                        100 * ev.top5(), ev.images()));
            }
            case "knn" -> {
                Evaluation ev = new Evaluation(num(o, "epoch"), o.get("step").getAsLong(), num(o, "top1"),
                        num(o, "top5"), o.get("images").getAsLong());
                evaluations.add(ev);
                out.accept(String.format(Locale.ROOT, "[%s] step %d: kNN top-1 %.2f%%, top-5 %.2f%% on %d held-out"
                        + " images", tag, ev.step(), 100 * ev.top1(), 100 * ev.top5(), ev.images()));
            }
            case "checkpoint" -> out.accept("[" + tag + "] checkpoint at step " + o.get("step").getAsLong() + ": "
                    + o.get("path").getAsString());
            case "resumed" -> out.accept("[" + tag + "] resumed at step " + o.get("step").getAsLong()
                    + (o.has("checkpoint") ? " from " + o.get("checkpoint").getAsString() : ""));
            default -> { }
        }
    }

    private static double num(JsonObject o, String key) {
        return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsDouble() : Double.NaN;
    }

    /** The resolved config beside the checkpoints (the run is reproducible from it). */
    static void writeRunConfig(Configuration conf, PretrainConfig cfg) throws IOException {
        Path p = new Path(cfg.train().output(), "config.json");
        try (OutputStream os = p.getFileSystem(conf).create(p, true)) {
            os.write((ConfigLoader.toJson(cfg.source()) + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }
}
