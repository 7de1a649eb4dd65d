package siameseim.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.typesafe.config.Config;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;
import siameseim.config.ConfigLoader;
import siameseim.config.ModelConfig;
import siameseim.model.io.Safetensors;
import siameseim.model.io.StateDict;
import siameseim.model.optim.AdamW;
import siameseim.model.siameseim.SiameseIM;

/**
 * The one checkpoint format (docs/checkpoint-format.md): a safetensors file holding
 *
 * <ul>
 *   <li>every model tensor under its reference name (online, {@code mm_*} target, BatchNorm
 *       buffers), so the file is also an official-name state dict;
 *   <li>the AdamW moments as {@code optimizer.exp_avg.<name>} / {@code optimizer.exp_avg_sq.<name>};
 *   <li>metadata: format name and version, optimizer step, fractional epoch, the architecture,
 *       the resolved config, a CRC32C per tensor, and free-form progress entries (data position,
 *       RNG state) that the distributed trainer adds.
 * </ul>
 *
 * Reading never deserialises code; a truncated, tampered, foreign or other-architecture file
 * fails with a message naming the file and the problem.
 */
public final class CheckpointFormat {
    public static final String FORMAT = "siameseim-checkpoint";
    public static final int VERSION = 1;
    private static final String OPTIM = "optimizer.";

    private CheckpointFormat() {}

    /** Where training stands: optimizer steps done, fractional epoch, and trainer-specific entries. */
    public record Progress(long step, double epoch, Map<String, String> extra) {
        public Progress {
            extra = Map.copyOf(extra);
        }
    }

    /** A verified checkpoint in memory. */
    public record Loaded(String source, Map<String, String> metadata, Map<String, NDArray> tensors, Progress progress,
            Map<String, String> architecture, String configJson) {}

    public static void write(OutputStream out, SiameseIM model, AdamW optimizer, Progress progress, Config config)
            throws IOException {
        Map<String, NDArray> tensors = new LinkedHashMap<>(StateDict.of(model, n -> true));
        optimizer.state().forEach((k, v) -> tensors.put(OPTIM + k, v));
        JsonObject sums = new JsonObject();
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            sums.addProperty(e.getKey(), crc(Safetensors.hostBytes(e.getValue())));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("version", Integer.toString(VERSION));
        meta.put("step", Long.toString(progress.step()));
        meta.put("optimizer_steps", Long.toString(optimizer.steps()));
        meta.put("epoch", Double.toString(progress.epoch()));
        meta.put("architecture", architectureJson(model.config()));
        meta.put("config", ConfigLoader.toJson(config));
        meta.put("checksums", sums.toString());
        new TreeMap<>(progress.extra()).forEach((k, v) -> meta.put("progress." + k, v));
        Safetensors.write(out, tensors, meta);
    }

    /** Reads and verifies (format, version, per-tensor checksums); does not touch any model. */
    public static Loaded read(InputStream in, NDManager manager, String source) throws IOException {
        Safetensors.Header h = Safetensors.readHeader(in, source);
        Map<String, String> meta = h.metadata();
        if (!FORMAT.equals(meta.get("format"))) {
            throw new IOException(source + " is not a siameseim checkpoint (format '" + meta.get("format")
                    + "'); for official-name weights use the import option instead");
        }
        String version = meta.get("version");
        if (!Integer.toString(VERSION).equals(version)) {
            throw new IOException(source + " has checkpoint format version " + version + "; this build reads version "
                    + VERSION);
        }
        JsonObject sums;
        try {
            sums = JsonParser.parseString(meta.get("checksums")).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new IOException(source + ": checkpoint has no valid checksum table");
        }
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        DataInputStream din = new DataInputStream(in);
        for (Safetensors.Entry e : h.entries()) {
            ByteBuffer bytes = Safetensors.readBytes(din, e, source);
            String expected = sums.has(e.name()) ? sums.get(e.name()).getAsString() : null;
            String actual = crc(bytes.duplicate());
            if (!actual.equals(expected)) {
                tensors.values().forEach(NDArray::close);
                throw new IOException(source + ": checksum mismatch for tensor " + e.name()
                        + " (stored " + expected + ", computed " + actual + "): the file is corrupt or was modified");
            }
            tensors.put(e.name(), manager.create(bytes, e.shape(), e.dtype()));
        }
        if (tensors.size() != sums.size()) {
            throw new IOException(source + ": checksum table lists " + sums.size() + " tensors, file has "
                    + tensors.size());
        }
        Map<String, String> extra = new LinkedHashMap<>();
        meta.forEach((k, v) -> {
            if (k.startsWith("progress.")) {
                extra.put(k.substring("progress.".length()), v);
            }
        });
        Progress p;
        try {
            p = new Progress(Long.parseLong(meta.get("step")), Double.parseDouble(meta.get("epoch")), extra);
        } catch (RuntimeException e) {
            throw new IOException(source + ": checkpoint metadata has no valid step/epoch");
        }
        return new Loaded(source, meta, tensors, p, parseArchitecture(meta.get("architecture"), source),
                meta.get("config"));
    }

    /**
     * Loads model weights and optimizer state into a model of the same architecture; a different
     * architecture fails with the list of differing keys.
     */
    public static void restore(Loaded ckpt, SiameseIM model, AdamW optimizer) {
        Map<String, String> ours = parseArchitectureUnchecked(architectureJson(model.config()));
        List<String> diffs = new ArrayList<>();
        for (Map.Entry<String, String> e : ours.entrySet()) {
            String theirs = ckpt.architecture().get(e.getKey());
            if (!e.getValue().equals(theirs)) {
                diffs.add(e.getKey() + " = " + theirs + " in the checkpoint, " + e.getValue() + " in this run");
            }
        }
        if (!diffs.isEmpty()) {
            throw new IllegalArgumentException(ckpt.source() + " has another architecture: " + String.join("; ", diffs));
        }
        Map<String, NDArray> weights = new LinkedHashMap<>();
        Map<String, NDArray> optim = new LinkedHashMap<>();
        ckpt.tensors().forEach((k, v) -> {
            if (k.startsWith(OPTIM)) {
                optim.put(k.substring(OPTIM.length()), v);
            } else {
                weights.put(k, v);
            }
        });
        StateDict.load(model, weights, n -> true, ckpt.source());
        if (optimizer != null) {
            long steps = Long.parseLong(ckpt.metadata().getOrDefault("optimizer_steps", ckpt.metadata().get("step")));
            optimizer.load(optim, steps, ckpt.source());
        }
    }

    /** The keys that fix tensor shapes, as a JSON object of strings. */
    public static String architectureJson(ModelConfig m) {
        JsonObject o = new JsonObject();
        o.addProperty("model.image-size", Integer.toString(m.imageSize()));
        o.addProperty("model.patch-size", Integer.toString(m.patchSize()));
        o.addProperty("model.encoder.width", Integer.toString(m.encoder().width()));
        o.addProperty("model.encoder.depth", Integer.toString(m.encoder().depth()));
        o.addProperty("model.encoder.heads", Integer.toString(m.encoder().heads()));
        o.addProperty("model.encoder.mlp-ratio", Integer.toString(m.encoder().mlpRatio()));
        o.addProperty("model.decoder.width", Integer.toString(m.decoder().width()));
        o.addProperty("model.decoder.heads", Integer.toString(m.decoder().heads()));
        o.addProperty("model.decoder.projector-depth", Integer.toString(m.decoder().projectorDepth()));
        o.addProperty("model.decoder.predictor-depth", Integer.toString(m.decoder().predictorDepth()));
        o.addProperty("model.decoder.norm", m.decoder().norm().name().toLowerCase(java.util.Locale.ROOT));
        return o.toString();
    }

    private static Map<String, String> parseArchitecture(String json, String source) throws IOException {
        try {
            return parseArchitectureUnchecked(json);
        } catch (RuntimeException e) {
            throw new IOException(source + ": checkpoint metadata has no valid architecture");
        }
    }

    private static Map<String, String> parseArchitectureUnchecked(String json) {
        Map<String, String> out = new LinkedHashMap<>();
        JsonParser.parseString(json).getAsJsonObject().entrySet().forEach(e -> out.put(e.getKey(),
                e.getValue().getAsString()));
        return out;
    }

    private static String crc(ByteBuffer bytes) {
        CRC32C c = new CRC32C();
        c.update(bytes.duplicate());
        return String.format("%08x", c.getValue());
    }
}
