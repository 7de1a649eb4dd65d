package siameseim.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
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
import siameseim.config.ModelConfig;
import siameseim.model.io.CorruptFileException;
import siameseim.model.io.Safetensors;
import siameseim.model.io.StateDict;
import siameseim.model.nn.Module;
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
 *       the resolved config, a CRC32C per tensor, and the trainer's progress entries
 *       ({@code progress.global_batch}, fine-tuning's {@code progress.classes}).
 * </ul>
 *
 * Reading never deserialises code; a truncated, tampered, foreign or other-architecture file
 * fails with a message naming the file and the problem.
 */
public final class CheckpointFormat {
    public static final String FORMAT = "siameseim-checkpoint";
    public static final int VERSION = 1;
    private static final String OPTIM = "optimizer.";
    /** Architecture key naming the model kind; absent in pretraining checkpoints. */
    public static final String KIND = "model.kind";
    public static final String CLASSIFIER = "classifier";
    /** Progress entries that resume reads: the run's global batch, and fp16-mixed's loss scale and its growth counter. */
    public static final String GLOBAL_BATCH = "global_batch";
    public static final String LOSS_SCALE = "loss_scale";
    public static final String LOSS_SCALE_GROWTH = "loss_scale_growth_tracker";

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

    /**
     * Writes a model: its tensors, the optimizer's moments and {@code architecture} (the keys
     * that fix the tensor shapes, compared on restore).
     *
     * @param configJson the run's resolved config ({@code PretrainConfig.json})
     */
    public static void write(OutputStream out, Module model, Map<String, String> architecture, AdamW optimizer,
            Progress progress, String configJson) throws IOException {
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
        JsonObject arch = new JsonObject();
        architecture.forEach(arch::addProperty);
        meta.put("architecture", arch.toString());
        meta.put("config", configJson);
        meta.put("checksums", sums.toString());
        new TreeMap<>(progress.extra()).forEach((k, v) -> meta.put("progress." + k, v));
        Safetensors.write(out, tensors, meta);
    }

    /** Reads and verifies (format, version, per-tensor checksums); does not touch any model. */
    public static Loaded read(InputStream in, NDManager manager, String source) throws IOException {
        Safetensors.Header h = Safetensors.readHeader(in, source);
        Map<String, String> meta = h.metadata();
        if (!FORMAT.equals(meta.get("format"))) {
            throw new CorruptFileException(source + " is not a siameseim checkpoint (format '" + meta.get("format")
                    + "'); for official-name weights use the import option instead");
        }
        String version = meta.get("version");
        if (!Integer.toString(VERSION).equals(version)) {
            throw new CorruptFileException(source + " has checkpoint format version " + version + "; this build reads version "
                    + VERSION);
        }
        JsonObject sums;
        try {
            sums = JsonParser.parseString(meta.get("checksums")).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new CorruptFileException(source + ": checkpoint has no valid checksum table");
        }
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        DataInputStream din = new DataInputStream(in);
        for (Safetensors.Entry e : h.entries()) {
            ByteBuffer bytes = Safetensors.readBytes(din, e, source);
            String expected = sums.has(e.name()) ? sums.get(e.name()).getAsString() : null;
            String actual = crc(bytes.duplicate());
            if (!actual.equals(expected)) {
                tensors.values().forEach(NDArray::close);
                throw new CorruptFileException(source + ": checksum mismatch for tensor " + e.name()
                        + " (stored " + expected + ", computed " + actual + "): the file is corrupt or was modified");
            }
            tensors.put(e.name(), Safetensors.create(manager, bytes, e));
        }
        if (tensors.size() != sums.size()) {
            throw new CorruptFileException(source + ": checksum table lists " + sums.size() + " tensors, file has "
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
            throw new CorruptFileException(source + ": checkpoint metadata has no valid step/epoch");
        }
        return new Loaded(source, meta, tensors, p, parseArchitecture(meta.get("architecture"), source),
                meta.get("config"));
    }

    /**
     * Loads model weights and optimizer state into a model of the same architecture; a different
     * architecture fails with the list of differing keys.
     */
    public static void restore(Loaded ckpt, SiameseIM model, AdamW optimizer) {
        restore(ckpt, model, architecture(model.config()), optimizer);
    }

    /** As above for any model whose shapes are fixed by {@code ours}. */
    public static void restore(Loaded ckpt, Module model, Map<String, String> ours, AdamW optimizer) {
        List<String> diffs = new ArrayList<>();
        java.util.Set<String> keys = new java.util.LinkedHashSet<>(ours.keySet());
        keys.addAll(ckpt.architecture().keySet());
        for (String k : keys) {
            String theirs = ckpt.architecture().get(k);
            if (!java.util.Objects.equals(ours.get(k), theirs)) {
                diffs.add(k + " = " + theirs + " in the checkpoint, " + ours.get(k) + " in this run");
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

    /** The keys that fix a SiameseIM model's tensor shapes, as a JSON object of strings. */
    public static String architectureJson(ModelConfig m) {
        JsonObject o = new JsonObject();
        architecture(m).forEach(o::addProperty);
        return o.toString();
    }

    /** The keys that fix a SiameseIM model's tensor shapes. */
    public static Map<String, String> architecture(ModelConfig m) {
        Map<String, String> o = encoderArchitecture(m);
        o.put("model.decoder.width", Integer.toString(m.decoder().width()));
        o.put("model.decoder.heads", Integer.toString(m.decoder().heads()));
        o.put("model.decoder.projector-depth", Integer.toString(m.decoder().projectorDepth()));
        o.put("model.decoder.predictor-depth", Integer.toString(m.decoder().predictorDepth()));
        o.put("model.decoder.norm", m.decoder().norm().name().toLowerCase(java.util.Locale.ROOT));
        return o;
    }

    /** The keys that fix a fine-tuned classifier's shapes: the encoder's, the kind and the class count. */
    public static Map<String, String> classifierArchitecture(ModelConfig m, int classes) {
        Map<String, String> o = encoderArchitecture(m);
        o.put(KIND, CLASSIFIER);
        o.put("model.classes", Integer.toString(classes));
        return o;
    }

    private static Map<String, String> encoderArchitecture(ModelConfig m) {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("model.image-size", Integer.toString(m.imageSize()));
        o.put("model.patch-size", Integer.toString(m.patchSize()));
        o.put("model.encoder.width", Integer.toString(m.encoder().width()));
        o.put("model.encoder.depth", Integer.toString(m.encoder().depth()));
        o.put("model.encoder.heads", Integer.toString(m.encoder().heads()));
        o.put("model.encoder.mlp-ratio", Integer.toString(m.encoder().mlpRatio()));
        return o;
    }

    private static Map<String, String> parseArchitecture(String json, String source) throws IOException {
        try {
            return parseArchitectureUnchecked(json);
        } catch (RuntimeException e) {
            throw new CorruptFileException(source + ": checkpoint metadata has no valid architecture");
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
