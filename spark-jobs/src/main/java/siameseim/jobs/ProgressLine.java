package siameseim.jobs;

import java.util.Locale;
import siameseim.train.StepResult;

/** The console progress line of a training run, printed every few seconds and at the end. */
public final class ProgressLine {
    private final String tag;
    private final long totalSteps;
    private final long stepsPerEpoch;
    private final double everySeconds;
    private final long start = System.nanoTime();
    private long lastPrint;
    private long imagesSinceStart;
    private long firstStep = -1;

    public ProgressLine(String tag, long totalSteps, long stepsPerEpoch, double everySeconds) {
        this.tag = tag;
        this.totalSteps = totalSteps;
        this.stepsPerEpoch = stepsPerEpoch;
        this.everySeconds = everySeconds;
        this.lastPrint = start;
    }

    /** Records a step; returns the line when it is time to print one (or the run ends), else null. */
    public String update(StepResult r, int replicas) {
        if (firstStep < 0) {
            firstStep = r.step();
        }
        imagesSinceStart += (long) r.images() * replicas;
        long now = System.nanoTime();
        boolean last = r.step() + 1 >= totalSteps;
        if (!last && (now - lastPrint) / 1e9 < everySeconds) {
            return null;
        }
        lastPrint = now;
        double elapsed = (now - start) / 1e9;
        double ips = imagesSinceStart / Math.max(elapsed, 1e-9);
        long done = r.step() + 1 - firstStep;
        double perStep = elapsed / Math.max(1, done);
        long left = Math.max(0, totalSteps - r.step() - 1);
        String terms = Double.isNaN(r.pos()) ? ""
                : String.format(Locale.ROOT, " (pos %.4f, neg %.3f)", r.pos(), r.neg());
        String momentum = Double.isNaN(r.momentum()) ? "" : String.format(Locale.ROOT, "  m %.5f", r.momentum());
        return String.format(Locale.ROOT,
                "[%s] epoch %6.2f/%s  step %6d/%d  loss %.4f%s  lr %.2e%s  |g| %.3f  %6.1f img/s  elapsed %s  ETA %s%s",
                tag, (r.step() + 1) / (double) stepsPerEpoch, trim(totalSteps / (double) stepsPerEpoch), r.step() + 1,
                totalSteps, r.loss(), terms, r.lr(), momentum, r.gradNorm(), ips, duration(elapsed),
                duration(left * perStep), r.skipped() ? "  (step skipped: non-finite)" : "");
    }

    public static String trim(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : String.format(Locale.ROOT, "%.2f", d);
    }

    public static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return (s / 60) + "m" + String.format("%02d", s % 60) + "s";
        }
        return (s / 3600) + "h" + String.format("%02d", (s % 3600) / 60) + "m";
    }
}
