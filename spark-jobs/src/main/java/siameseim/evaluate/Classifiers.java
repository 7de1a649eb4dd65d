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
import siameseim.model.io.WeightsFile;
import siameseim.model.io.StateDict;
import siameseim.model.nn.Torch;
import siameseim.model.vit.VitClassifier;

/**
 * Fine-tuned classifiers for evaluation: a {@code finetune} checkpoint (architecture, class count
 * and class names from its metadata) or a safetensors or torch.save file with timm names including
 * {@code fc_norm.*} and {@code head.*} (the official {@code sim_base_1600ep_finetune.pth} and
 * {@code main_finetune.py} checkpoints) (the architecture then comes from the config, the class
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
        WeightsFile.Tensor head;
        WeightsFile.Tensor norm;
        Map<String, String> meta;
        try (WeightsFile f = WeightsFile.open(weights, conf)) {
            meta = f.metadata();
            head = f.tensor("head.weight");
            norm = f.tensor("fc_norm.weight");
        }
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
        if (head == null || norm == null || head.shape().dimension() != 2) {
            throw new IOException(weights + " has no classification head (head.weight and fc_norm.weight): give a"
                    + " bin/siameseim finetune checkpoint or timm-named fine-tuned weights (e.g. the official"
                    + " sim_base_1600ep_finetune.pth)");
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
        try (NDManager tmp = m.newSubManager()) {
            Map<String, NDArray> tensors;
            if (d.checkpoint()) {
                Path p = new Path(weights);
                try (InputStream in = p.getFileSystem(conf).open(p)) {
                    tensors = CheckpointFormat.read(in, tmp, weights).tensors();
                }
            } else {
                // timm-named weights: a torch.save file's final norm (norm.*, absent with fc_norm) is not ours
                try (WeightsFile f = WeightsFile.open(weights, conf)) {
                    tensors = f.read(n -> !n.startsWith("norm."), tmp);
                }
            }
            // optimizer moments of a checkpoint are not model tensors
            StateDict.load(model, tensors, n -> !n.startsWith("optimizer."), weights);
        }
        model.setTrainable(false);
        return model;
    }
}
