package siameseim.evaluate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import siameseim.checkpoint.CheckpointFormat;
import siameseim.config.ModelConfig;
import siameseim.model.io.Safetensors;
import siameseim.model.io.StateDict;
import siameseim.model.nn.Torch;
import siameseim.model.vit.VitClassifier;

/**
 * Fine-tuned classifiers for evaluation: a {@code finetune} checkpoint (architecture, class count
 * and class names from its metadata) or a safetensors file with timm names including
 * {@code fc_norm.*} and {@code head.*} (the architecture then comes from the config, the class
 * count from {@code head.weight}). Loaded once per JVM.
 */
public final class Classifiers {
    private static final Map<String, VitClassifier> CACHE = new ConcurrentHashMap<>();
    private static final NDManager MANAGER;

    static {
        Torch.init();
        MANAGER = NDManager.newBaseManager();
    }

    private Classifiers() {}

    /** What a weights file holds: the architecture, the class count and (for checkpoints) the class names. */
    public record Description(ModelConfig model, int classes, List<String> classNames, boolean checkpoint)
            implements Serializable {}

    /** Reads only the header of {@code weights}. */
    public static Description describe(String weights, ModelConfig fallback, Configuration conf) throws IOException {
        Path p = new Path(weights);
        Safetensors.Header h;
        org.apache.hadoop.fs.FileSystem fs = p.getFileSystem(conf);
        try (InputStream in = fs.open(p)) {
            h = Safetensors.readHeader(in, fs.getFileStatus(p).getLen(), weights);
        }
        Map<String, String> meta = h.metadata();
        if (CheckpointFormat.FORMAT.equals(meta.get("format"))) {
            Map<String, String> arch = new LinkedHashMap<>();
            JsonParser.parseString(meta.get("architecture")).getAsJsonObject().entrySet()
                    .forEach(e -> arch.put(e.getKey(), e.getValue().getAsString()));
            if (!CheckpointFormat.CLASSIFIER.equals(arch.get(CheckpointFormat.KIND))) {
                throw new IOException(weights + " is a pretraining checkpoint, not a fine-tuned classifier: fine-tune it"
                        + " first (bin/siameseim finetune --weights " + weights + ")");
            }
            int classes = Integer.parseInt(arch.remove("model.classes"));
            arch.remove(CheckpointFormat.KIND);
            List<String> names = new ArrayList<>();
            String json = meta.get("progress." + siameseim.train.Finetuner.CLASS_NAMES);
            if (json != null) {
                JsonParser.parseString(json).getAsJsonArray().forEach(e -> names.add(e.getAsString()));
            }
            return new Description(ModelConfig.of(arch), classes, names.size() == classes ? names : List.of(), true);
        }
        Safetensors.Entry head = h.entry("head.weight");
        if (head == null || h.entry("fc_norm.weight") == null) {
            throw new IOException(weights + " has no classification head (head.weight and fc_norm.weight): give a"
                    + " bin/siameseim finetune checkpoint or timm-named fine-tuned weights");
        }
        return new Description(fallback, (int) head.shape().get(0), List.of(), false);
    }

    /** The classifier of {@code weights}, loaded on first use in this JVM. */
    public static VitClassifier cached(String weights, Description d, Configuration conf) {
        return CACHE.computeIfAbsent(weights + "|" + CheckpointFormat.architectureJson(d.model()) + "|" + d.classes(),
                k -> {
                    try {
                        return load(MANAGER, weights, d, conf);
                    } catch (IOException e) {
                        throw new IllegalStateException(e.getMessage(), e);
                    }
                });
    }

    public static VitClassifier load(NDManager m, String weights, Description d, Configuration conf)
            throws IOException {
        VitClassifier model = new VitClassifier(m, d.model(), d.classes(), 0, 0);
        Path p = new Path(weights);
        try (InputStream in = p.getFileSystem(conf).open(p);
                NDManager tmp = m.newSubManager()) {
            Map<String, NDArray> tensors;
            if (d.checkpoint()) {
                tensors = CheckpointFormat.read(in, tmp, weights).tensors();
            } else {
                tensors = Safetensors.read(in, tmp, weights).tensors();
            }
            // optimizer moments of a checkpoint are not model tensors
            StateDict.load(model, tensors, n -> !n.startsWith("optimizer."), weights);
        }
        model.setTrainable(false);
        return model;
    }
}
