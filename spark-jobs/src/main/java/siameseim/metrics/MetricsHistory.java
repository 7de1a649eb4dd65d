package siameseim.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import siameseim.events.Event;

/**
 * The run's metrics as series of (step, value) per tag, built from the events the trainers
 * report: training scalars from steps (images/s from consecutive timestamps, all-reduce share of
 * the step time) and the evaluations' accuracies. Long series are thinned to every other point past {@link #MAX_POINTS}, so a 500k-step
 * run keeps a bounded history for the plots.
 */
public final class MetricsHistory {
    static final int MAX_POINTS = 20_000;
    private final Map<String, List<double[]>> series = new LinkedHashMap<>();
    private double lastTime = Double.NaN;
    private long lastStep = -1;

    /** The scalars of one event (also the TensorBoard scalars), added to the history. */
    public List<TensorBoardEvents.Scalar> add(Event event) {
        List<TensorBoardEvents.Scalar> out = new ArrayList<>();
        if (event instanceof Event.Step s) {
            long step = s.step();
            double time = s.time();
            put(out, "train/loss", step, time, s.loss());
            put(out, "train/lr", step, time, s.lr());
            put(out, "train/momentum", step, time, s.momentum());
            put(out, "train/grad_norm", step, time, s.gradNorm());
            double c = s.computeMs();
            double a = s.allreduceMs();
            if (c + a > 0) {
                put(out, "train/allreduce_share", step, time, a / (c + a));
            }
            if (!Double.isNaN(lastTime) && step == lastStep + 1 && time > lastTime) {
                put(out, "train/images_per_second", step, time, s.images() / (time - lastTime));
            }
            lastTime = time;
            lastStep = step;
        } else if (event instanceof Event.Evaluation v) {
            String prefix = v.protocol() == Event.Evaluation.Protocol.KNN ? "eval/knn_" : "eval/";
            double time = Double.isNaN(v.time()) ? System.currentTimeMillis() / 1000.0 : v.time();
            put(out, prefix + "top1", v.step(), time, v.top1());
            put(out, prefix + "top5", v.step(), time, v.top5());
        }
        return out;
    }

    private void put(List<TensorBoardEvents.Scalar> out, String tag, long step, double time, double v) {
        if (!Double.isFinite(v)) {
            return;
        }
        out.add(new TensorBoardEvents.Scalar(tag, step, time, (float) v));
        List<double[]> s = series.computeIfAbsent(tag, k -> new ArrayList<>());
        s.add(new double[] {step, v});
        if (s.size() > MAX_POINTS) {
            List<double[]> thin = new ArrayList<>(s.size() / 2 + 1);
            for (int i = 0; i < s.size(); i += 2) {
                thin.add(s.get(i));
            }
            thin.add(s.get(s.size() - 1));
            series.put(tag, thin);
        }
    }

    /** (step, value) pairs of a tag; empty when it was never seen. */
    public List<double[]> series(String tag) {
        return series.getOrDefault(tag, List.of());
    }

    public boolean isEmpty() {
        return series.isEmpty();
    }
}
