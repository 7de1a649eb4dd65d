package siameseim.events;

import java.util.Locale;
import java.util.function.Consumer;

/**
 * The driver's console lines of a training run: a progress line every few seconds and at the end
 * (from {@link Event.Step}s), and one line for every other event.
 */
public final class Console implements Consumer<Event> {
    private final String tag;
    private final long totalSteps;
    private final long stepsPerEpoch;
    private final double everySeconds;
    private final Consumer<String> out;
    private final long start = System.nanoTime();
    private long lastPrint;
    private long imagesSinceStart;
    private long firstStep = -1;

    public Console(String tag, long totalSteps, long stepsPerEpoch, double everySeconds, Consumer<String> out) {
        this.tag = tag;
        this.totalSteps = totalSteps;
        this.stepsPerEpoch = stepsPerEpoch;
        this.everySeconds = everySeconds;
        this.out = out;
        this.lastPrint = start;
    }

    @Override
    public void accept(Event e) {
        String line = line(e);
        if (line != null) {
            out.accept(line);
        }
    }

    /** Prints a line of the run's own, tagged like the event lines. */
    public void line(String text) {
        out.accept("[" + tag + "] " + text);
    }

    /** The line for an event, or null (a step between progress lines). */
    String line(Event e) {
        if (e instanceof Event.Step s) {
            return progress(s);
        } else if (e instanceof Event.Preflight p) {
            return String.format(Locale.ROOT, "[%s] pre-flight: all-reduce of the %.1f MB gradient across %d replicas"
                    + " takes %.2f ms (bus bandwidth %.2f GiB/s)", tag, p.bytes() / 1e6, p.replicas(), p.allreduceMs(),
                    p.busGibps());
        } else if (e instanceof Event.Placement p) {
            return "[" + tag + "] replica 0: " + p.note();
        } else if (e instanceof Event.StepTiming t) {
            double c = t.computeMs();
            double a = t.allreduceMs();
            return String.format(Locale.ROOT, "[%s] per step: compute %.0f ms, gradient all-reduce %.1f ms (%.1f%% of the"
                    + " step)%s", tag, c, a, 100 * a / (a + c), a > c
                    ? ": the network dominates; use fewer, larger replicas or a faster network" : "");
        } else if (e instanceof Event.Evaluation v) {
            return v.protocol() == Event.Evaluation.Protocol.KNN
                    ? String.format(Locale.ROOT, "[%s] step %d: kNN top-1 %.2f%%, top-5 %.2f%% on %d held-out images",
                            tag, v.step(), 100 * v.top1(), 100 * v.top5(), v.images())
                    : String.format(Locale.ROOT, "[%s] epoch %s: top-1 %.2f%%, top-5 %.2f%% on %d test images", tag,
                            trim(Math.round(v.epoch() * 100) / 100.0), 100 * v.top1(), 100 * v.top5(), v.images());
        } else if (e instanceof Event.Checkpoint c) {
            return "[" + tag + "] checkpoint at step " + c.step() + ": " + c.path();
        } else if (e instanceof Event.Resumed r) {
            return "[" + tag + "] resumed at step " + r.step() + (r.checkpoint().isEmpty() ? "" : " from "
                    + r.checkpoint()) + (r.why().isEmpty() ? "" : " (" + r.why() + ")");
        } else if (e instanceof Event.Fault f) {
            return String.format(Locale.ROOT, "[%s] executor %s lost at step %d (%s); Spark retries the barrier stage"
                    + " and the replicas resume from %s", tag, f.executor(), f.step(), f.reason(), f.checkpoint() >= 0
                    ? "the checkpoint of step " + f.checkpoint() : "the start");
        }
        return null;
    }

    /** The progress line when it is time to print one (or the run ends), else null. */
    private String progress(Event.Step s) {
        long step = s.step() - 1; // steps done before this one
        if (firstStep < 0) {
            firstStep = step;
        }
        imagesSinceStart += s.images();
        long now = System.nanoTime();
        boolean last = s.step() >= totalSteps;
        if (!last && (now - lastPrint) / 1e9 < everySeconds) {
            return null;
        }
        lastPrint = now;
        double elapsed = (now - start) / 1e9;
        double ips = imagesSinceStart / Math.max(elapsed, 1e-9);
        long done = s.step() - firstStep;
        double perStep = elapsed / Math.max(1, done);
        long left = Math.max(0, totalSteps - s.step());
        String terms = Double.isNaN(s.pos()) ? ""
                : String.format(Locale.ROOT, " (pos %.4f, neg %.3f)", s.pos(), s.neg());
        String momentum = Double.isNaN(s.momentum()) ? "" : String.format(Locale.ROOT, "  m %.5f", s.momentum());
        return String.format(Locale.ROOT,
                "[%s] epoch %6.2f/%s  step %6d/%d  loss %.4f%s  lr %.2e%s  |g| %.3f  %6.1f img/s  elapsed %s  ETA %s%s",
                tag, s.step() / (double) stepsPerEpoch, trim(totalSteps / (double) stepsPerEpoch), s.step(),
                totalSteps, s.loss(), terms, s.lr(), momentum, s.gradNorm(), ips, duration(elapsed),
                duration(left * perStep), s.skipped() ? "  (step skipped: non-finite)" : "");
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
