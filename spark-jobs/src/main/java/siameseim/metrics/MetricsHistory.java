package siameseim.metrics;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The run's metrics as series of (step, value) per tag, built from the JSON lines the trainers
 * write: training scalars from {@code step} lines (images/s from consecutive timestamps,
 * all-reduce share of the step time) and evaluation results from {@code knn} and {@code eval}
 * lines. Long series are thinned to every other point past {@link #MAX_POINTS}, so a 500k-step
 * run keeps a bounded history for the plots.
 */
public final class MetricsHistory {
    static final int MAX_POINTS = 20_000;
    private final Map<String, List<double[]>> series = new LinkedHashMap<>();
    private double lastTime = Double.NaN;
    private long lastStep = -1;

    /** The scalars of one JSON line (also the TensorBoard scalars), added to the history. */
    public List<TensorBoardEvents.Scalar> add(String jsonLine) {
        List<TensorBoardEvents.Scalar> out = new ArrayList<>();
        JsonObject o;
        try {
            o = JsonParser.parseString(jsonLine).getAsJsonObject();
        } catch (RuntimeException e) {
            return out;
        }
        String type = o.has("type") ? o.get("type").getAsString() : "";
        long step = o.has("step") ? o.get("step").getAsLong() : 0;
        double time = o.has("time") ? o.get("time").getAsDouble() : System.currentTimeMillis() / 1000.0;
        switch (type) {
            case "step" -> {
                put(out, "train/loss", step, time, o, "loss");
                put(out, "train/lr", step, time, o, "lr");
                put(out, "train/momentum", step, time, o, "momentum");
                put(out, "train/grad_norm", step, time, o, "grad_norm");
                if (o.has("compute_ms") && o.has("allreduce_ms")) {
                    double c = o.get("compute_ms").getAsDouble();
                    double a = o.get("allreduce_ms").getAsDouble();
                    if (c + a > 0) {
                        put(out, "train/allreduce_share", step, time, a / (c + a));
                    }
                }
                if (!Double.isNaN(lastTime) && step == lastStep + 1 && time > lastTime && o.has("images")) {
                    put(out, "train/images_per_second", step, time, o.get("images").getAsDouble() / (time - lastTime));
                }
                lastTime = time;
                lastStep = step;
            }
            case "knn" -> {
                put(out, "eval/knn_top1", step, time, o, "top1");
                put(out, "eval/knn_top5", step, time, o, "top5");
            }
            case "eval" -> {
                put(out, "eval/top1", step, time, o, "top1");
                put(out, "eval/top5", step, time, o, "top5");
            }
            default -> { }
        }
        return out;
    }

    private void put(List<TensorBoardEvents.Scalar> out, String tag, long step, double time, JsonObject o,
            String key) {
        if (o.has(key) && !o.get(key).isJsonNull()) {
            put(out, tag, step, time, o.get(key).getAsDouble());
        }
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
