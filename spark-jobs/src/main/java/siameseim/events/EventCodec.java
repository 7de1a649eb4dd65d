package siameseim.events;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.util.Locale;

/**
 * The one wire and file format of {@link Event}s: a JSON object per line with a {@code type}
 * field ({@code step}, {@code knn}, {@code eval}, {@code checkpoint}, {@code resumed},
 * {@code preflight}, {@code step-timing}, {@code placement}, {@code fault}) and snake_case
 * fields; NaN values are left out and read back as NaN. docs/distributed.md lists the fields.
 */
public final class EventCodec {
    private EventCodec() {}

    public static String encode(Event e) {
        JsonObject o = new JsonObject();
        if (e instanceof Event.Step s) {
            o.addProperty("type", "step");
            o.addProperty("step", s.step());
            o.addProperty("epoch", s.epoch());
            put(o, "loss", s.loss());
            put(o, "pos", s.pos());
            put(o, "neg", s.neg());
            put(o, "lr", s.lr());
            put(o, "momentum", s.momentum());
            put(o, "grad_norm", s.gradNorm());
            o.addProperty("skipped", s.skipped());
            o.addProperty("images", s.images());
            put(o, "compute_ms", s.computeMs());
            put(o, "allreduce_ms", s.allreduceMs());
            put(o, "sync_ms", s.syncMs());
            put(o, "load_ms", s.loadMs());
            put(o, "cpu_ms", s.cpuMs());
            o.addProperty("time", s.time());
        } else if (e instanceof Event.Evaluation v) {
            o.addProperty("type", v.protocol() == Event.Evaluation.Protocol.KNN ? "knn" : "eval");
            o.addProperty("step", v.step());
            o.addProperty("epoch", v.epoch());
            put(o, "top1", v.top1());
            put(o, "top5", v.top5());
            o.addProperty("images", v.images());
            o.addProperty("time", v.time());
        } else if (e instanceof Event.Checkpoint c) {
            o.addProperty("type", "checkpoint");
            o.addProperty("step", c.step());
            o.addProperty("path", c.path());
        } else if (e instanceof Event.Resumed r) {
            o.addProperty("type", "resumed");
            o.addProperty("step", r.step());
            o.addProperty("checkpoint", r.checkpoint());
            o.addProperty("why", r.why());
        } else if (e instanceof Event.Preflight p) {
            o.addProperty("type", "preflight");
            o.addProperty("bytes", p.bytes());
            put(o, "allreduce_ms", p.allreduceMs());
            put(o, "bus_gibps", p.busGibps());
            o.addProperty("replicas", p.replicas());
        } else if (e instanceof Event.StepTiming t) {
            o.addProperty("type", "step-timing");
            put(o, "compute_ms", t.computeMs());
            put(o, "allreduce_ms", t.allreduceMs());
        } else if (e instanceof Event.Placement p) {
            o.addProperty("type", "placement");
            o.addProperty("note", p.note());
        } else if (e instanceof Event.Fault f) {
            o.addProperty("type", "fault");
            o.addProperty("executor", f.executor());
            o.addProperty("step", f.step());
            o.addProperty("reason", f.reason());
            o.addProperty("checkpoint", f.checkpoint());
        }
        return o.toString();
    }

    /**
     * The event of one line; null for a line of a type this build does not know (a newer writer).
     *
     * @throws IllegalArgumentException for a line that is not an event
     */
    public static Event decode(String line) {
        JsonObject o;
        try {
            o = JsonParser.parseString(line).getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new IllegalArgumentException("not an event line: " + abbreviate(line), e);
        }
        if (!o.has("type")) {
            throw new IllegalArgumentException("an event line without a type: " + abbreviate(line));
        }
        try {
            String type = o.get("type").getAsString();
            return switch (type) {
                case "step" -> new Event.Step(o.get("step").getAsLong(), num(o, "epoch"), num(o, "loss"), num(o, "pos"),
                        num(o, "neg"), num(o, "lr"), num(o, "momentum"), num(o, "grad_norm"),
                        o.has("skipped") && o.get("skipped").getAsBoolean(), o.get("images").getAsLong(),
                        num(o, "compute_ms"), num(o, "allreduce_ms"), num(o, "sync_ms"), num(o, "load_ms"),
                        num(o, "cpu_ms"), num(o, "time"));
                case "knn", "eval" -> new Event.Evaluation(type.equals("knn") ? Event.Evaluation.Protocol.KNN
                        : Event.Evaluation.Protocol.FINETUNE, o.get("step").getAsLong(), num(o, "epoch"),
                        num(o, "top1"), num(o, "top5"), o.get("images").getAsLong(), num(o, "time"));
                case "checkpoint" -> new Event.Checkpoint(o.get("step").getAsLong(), o.get("path").getAsString());
                case "resumed" -> new Event.Resumed(o.get("step").getAsLong(), str(o, "checkpoint"), str(o, "why"));
                case "preflight" -> new Event.Preflight(o.get("bytes").getAsLong(), num(o, "allreduce_ms"),
                        num(o, "bus_gibps"), o.get("replicas").getAsInt());
                case "step-timing" -> new Event.StepTiming(num(o, "compute_ms"), num(o, "allreduce_ms"));
                case "placement" -> new Event.Placement(str(o, "note"));
                case "fault" -> new Event.Fault(str(o, "executor"), o.get("step").getAsLong(), str(o, "reason"),
                        o.get("checkpoint").getAsLong());
                default -> null;
            };
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "a malformed event line (%s): %s",
                    e.getMessage(), abbreviate(line)), e);
        }
    }

    private static void put(JsonObject o, String key, double v) {
        if (Double.isFinite(v)) {
            o.addProperty(key, v);
        }
    }

    private static double num(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? Double.NaN : e.getAsDouble();
    }

    private static String str(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? "" : e.getAsString();
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}
