package siameseim.spark;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/**
 * Progress of a job that writes one record per item (the {@code embed} job's rows), printed on
 * the driver: items written by the finished tasks of the jobs in one job group, items/s since the
 * start, and the time left at that rate. A line when a task ends, at most one every
 * {@code everySeconds} (always the last one).
 */
public final class WriteProgress extends SparkListener implements AutoCloseable {
    private final SparkContext sc;
    private final String group;
    private final String what;
    private final long total;
    private final double everySeconds;
    private final Consumer<String> out;
    private final long start = System.nanoTime();
    private final Set<Integer> stages = new HashSet<>();
    private long done;
    private long lastLine;
    private boolean printed;

    /**
     * Listens from now until {@link #close}; {@code total} items are expected (0 when not known:
     * no ETA). The caller runs its jobs under {@code SparkContext.setJobGroup(group, ...)}.
     */
    public WriteProgress(SparkContext sc, String group, String what, long total, double everySeconds,
            Consumer<String> out) {
        this.sc = sc;
        this.group = group;
        this.what = what;
        this.total = total;
        this.everySeconds = everySeconds;
        this.out = out;
        sc.addSparkListener(this);
    }

    @Override
    public void onJobStart(SparkListenerJobStart job) {
        if (job.properties() != null && group.equals(job.properties().getProperty("spark.jobGroup.id"))) {
            for (Object id : scala.jdk.javaapi.CollectionConverters.asJava(job.stageIds())) {
                stages.add((Integer) id);
            }
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd task) {
        if (!stages.contains(task.stageId()) || task.taskMetrics() == null || !task.taskInfo().successful()) {
            return;
        }
        long written = task.taskMetrics().outputMetrics().recordsWritten();
        if (written == 0) {
            return;
        }
        done += written;
        long now = System.nanoTime();
        if (printed && done < total && (now - lastLine) / 1e9 < everySeconds) {
            return;
        }
        printed = true;
        lastLine = now;
        double sec = Math.max((now - start) / 1e9, 1e-3);
        double rate = done / sec;
        out.accept(total > 0
                ? String.format(Locale.ROOT, "[%s] %d of %d images (%.0f%%), %.1f images/s, ETA %s", what, done, total,
                        100.0 * done / total, rate, eta(Math.max(0, total - done) / rate))
                : String.format(Locale.ROOT, "[%s] %d images, %.1f images/s", what, done, rate));
    }

    static String eta(double seconds) {
        long s = Math.round(seconds);
        return s < 60 ? s + " s" : s < 3600 ? String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60)
                : String.format(Locale.ROOT, "%d h %02d min", s / 3600, s % 3600 / 60);
    }

    /** Prints what the listener bus still holds for this listener (the last tasks' lines), then stops. */
    @Override
    public void close() {
        try {
            sc.listenerBus().waitUntilEmpty(10_000); // Spark-internal (private[spark]), public in the bytecode
        } catch (java.util.concurrent.TimeoutException e) {
            // a busy bus: the last line may be missing, the job's own report follows anyway
        }
        sc.removeSparkListener(this);
    }
}
