package siameseim.distributed;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import siameseim.collective.Handshake;
import siameseim.config.PretrainConfig;
import siameseim.events.Console;
import siameseim.events.Event;
import siameseim.events.EventCodec;
import siameseim.events.Summary;
import siameseim.spark.Barrier;
import siameseim.spark.SparkSessions;
import siameseim.train.Schedule;

/**
 * The driver's side of a training run (pretraining or fine-tuning, by its {@link TrainingKind}):
 * one barrier stage of {@code distributed.replicas} tasks ({@link ReplicaTask}), the replicas'
 * progress relayed to the console, and their summaries checked and returned. Spark retries the
 * whole stage when a task fails (a lost executor, a lost peer); every replica then resumes by the
 * run's policy ({@link siameseim.checkpoint.CheckpointStore#resume}). The checks before the stage
 * are {@link StageChecks}'; faults and their explanations are {@link TrainingFaults}'.
 */
public final class DistributedTraining {
    private DistributedTraining() {}

    /** The outcome: one summary per replica, and the evaluations rank 0 reported. */
    public record Result(List<Summary> replicas, double seconds, List<Event.Evaluation> evaluations) {
        public Summary rank0() {
            return replicas.get(0);
        }
    }

    public static Result run(SparkSession spark, PretrainConfig cfg, String resume, Consumer<String> out)
            throws IOException {
        return run(spark, cfg, resume, out, TrainingKind.PRETRAIN);
    }

    /** @param resume the checkpoint that seeds a run whose output holds none yet ({@code --resume}), or null */
    public static Result run(SparkSession spark, PretrainConfig cfg, String resume, Consumer<String> out,
            TrainingKind kind) throws IOException {
        long start = System.nanoTime();
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        StageChecks.Plan plan = StageChecks.plan(cfg, conf, kind, resume);
        cfg = plan.cfg();
        Schedule schedule = plan.schedule();
        int n = cfg.distributed().replicas();
        int batch = schedule.globalBatch();
        RunFolder.writeConfig(conf, cfg);
        out.accept(String.format(Locale.ROOT, "[%s] %d replicas x %d images per step (global batch %d), %d"
                + " images, %d steps per epoch, %d steps; output %s", kind.tag(), n, batch / n, batch, plan.images(),
                schedule.stepsPerEpoch(), schedule.totalSteps(), cfg.train().output()));
        String mixing = plan.manifest().classes().isEmpty() ? null // unlabelled: no classes to mix
                : StageChecks.mixingWarning(cfg, conf, plan.manifest(), kind.trainSplit(cfg), batch / n,
                        schedule.stepsPerEpoch(), n);
        if (mixing != null) {
            out.accept("[" + kind.tag() + "] warning: " + mixing);
        }

        byte[] secret = Handshake.newSecret();
        String driverHost = spark.sparkContext().getConf().get("spark.driver.host", "127.0.0.1");
        Console console = new Console(kind.tag(), schedule.totalSteps(), schedule.stepsPerEpoch(),
                cfg.train().logEverySeconds(), out);
        List<Event.Evaluation> evaluations = Collections.synchronizedList(new ArrayList<>());
        TrainingFaults.Reporter faults = new TrainingFaults.Reporter(console);
        spark.sparkContext().addSparkListener(faults);
        try (ProgressChannel.Server progress = new ProgressChannel.Server(driverHost, secret, line -> {
            Event event = decode(line, out);
            if (event != null) {
                faults.onEvent(event);
                if (event instanceof Event.Evaluation ev) {
                    evaluations.add(ev);
                }
                console.accept(event);
            }
        }, out)) {
            JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            jsc.setJobGroup("siameseim-" + kind.tag(), String.format(Locale.ROOT, "%s: %d replicas, %s -> %s",
                    kind.title(), n, cfg.data().path(), cfg.train().output()), true);
            List<Integer> ranks = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                ranks.add(r);
            }
            ReplicaTask task = new ReplicaTask(kind, cfg, SparkSessions.hadoopConf(spark), secret, progress.address(),
                    plan.resume());
            List<Summary> summaries;
            try {
                summaries = Barrier.collectRetryable(Barrier.mapPartitions(jsc.parallelize(ranks, n), task,
                        Summary.class));
            } catch (Exception e) {
                // Scala rethrows SparkException without declaring it
                throw TrainingFaults.explain(e, n, kind.tag());
            } finally {
                jsc.clearJobGroup();
            }
            List<Summary> sorted = new ArrayList<>(summaries);
            sorted.sort(Comparator.comparingInt(Summary::rank));
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

    /** A replica's event line; null (and a note on the console) for a line that is not one. */
    private static Event decode(String line, Consumer<String> out) {
        try {
            return EventCodec.decode(line);
        } catch (IllegalArgumentException e) {
            out.accept("[progress] ignored: " + e.getMessage());
            return null;
        }
    }
}
