package siameseim.distributed;

import java.io.IOException;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkEnv;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.StageInfo;
import siameseim.collective.CollectiveException;
import siameseim.events.Console;
import siameseim.events.Event;

/**
 * Faults of a training stage and their explanations: while the stage runs, a listener says on
 * the driver's console which executor was lost, at which step, and from which checkpoint the
 * retry resumes; when the stage fails, Spark's failure message becomes one line a user can act on.
 */
public final class TrainingFaults {
    private static final Pattern RETRIED = Pattern.compile("has failed the maximum allowable number of times: (\\d+)");
    private static final Pattern EXECUTOR_EXCEPTION =
            Pattern.compile("(?m)^(?:[a-z][\\w$]*\\.)+[A-Z][\\w$]*(?:Exception|Error): (.+)$");

    private TrainingFaults() {}

    /**
     * Says on the driver's console what Spark does about a fault: which executor was lost, at
     * which step of training, the newest checkpoint the retry will resume from, and each retry
     * of the barrier stage (the replicas then report where they resumed).
     */
    static final class Reporter extends SparkListener {
        private final Console console;
        private final AtomicLong step = new AtomicLong();
        private final AtomicLong checkpoint = new AtomicLong(-1);
        private final Set<Integer> stages = ConcurrentHashMap.newKeySet();

        Reporter(Console console) {
            this.console = console;
        }

        /** Follows the replicas' progress (rank 0's events). */
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
        public void onExecutorRemoved(SparkListenerExecutorRemoved e) {
            console.accept(new Event.Fault(e.executorId(), step.get(), e.reason(), checkpoint.get()));
        }

        @Override
        public void onStageSubmitted(SparkListenerStageSubmitted e) {
            StageInfo info = e.stageInfo();
            if (info.attemptNumber() > 0 && stages.contains(info.stageId())) {
                console.line(String.format(Locale.ROOT, "barrier stage %d, attempt %d of at most %s"
                        + " (spark.stage.maxConsecutiveAttempts)", info.stageId(), info.attemptNumber() + 1,
                        SparkEnv.get().conf().get("spark.stage.maxConsecutiveAttempts", "4")));
            }
            stages.add(info.stageId());
        }
    }

    /** Too few slots and lost replicas get a message a user can act on. */
    public static RuntimeException explain(Exception e, int replicas, String job) {
        String msg = String.valueOf(e.getMessage());
        if (msg.contains("BarrierJobSlotsNumberCheckFailed") || msg.contains("requires more slots")) {
            return new IllegalStateException(job + " needs " + replicas + " task slots at once (one per replica,"
                    + " distributed.replicas = " + replicas + ") but the cluster has fewer: lower distributed.replicas"
                    + " or add executors/cores (local[N] gives N slots)", e);
        }
        Matcher retried = RETRIED.matcher(msg);
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
        Matcher m = EXECUTOR_EXCEPTION.matcher(sparkMessage);
        while (m.find()) {
            String line = m.group(1).strip();
            if (!line.startsWith("Job aborted")) {
                return line;
            }
        }
        return null;
    }

    static String rootMessage(Throwable e) {
        String best = e.getMessage();
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c.getMessage() != null && (c instanceof CollectiveException || c instanceof IOException
                    || c instanceof IllegalStateException || c instanceof IllegalArgumentException)) {
                best = c.getMessage();
            }
        }
        return best;
    }
}
