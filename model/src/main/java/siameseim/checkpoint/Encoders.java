package siameseim.checkpoint;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import siameseim.config.ModelConfig;
import siameseim.model.io.CorruptFileException;
import siameseim.model.io.WeightsFile;
import siameseim.model.io.StateDict;
import siameseim.model.nn.Torch;
import siameseim.model.vit.VisionTransformer;
import siameseim.model.vit.VitClassifier;

/**
 * The encoder an evaluation runs on: the online encoder of a pretrain checkpoint (never the EMA
 * copy, spec 5.1), a safetensors or torch.save ({@code .pth}, {@code pytorch_model.bin}) file
 * with timm/MAE names (what {@code bin/siameseim export} writes, the official SiameseIM
 * checkpoints, released or fine-tuned, MAE, DeiT, timm) or Hugging Face ViT / ViT-MAE names
 * ({@link EncoderNames}), told apart by content ({@link WeightsFile}), or a random
 * initialisation for baselines. Loaded once per JVM and shared by the tasks that run there.
 */
public final class Encoders {
    private static final Map<String, VisionTransformer> CACHE = new ConcurrentHashMap<>();
    private static final Set<String> CHECKED = ConcurrentHashMap.newKeySet();
    private static final NDManager MANAGER;
    private static final Map<Device, NDManager> ON_DEVICE = new ConcurrentHashMap<>();

    static {
        Torch.init();
        MANAGER = NDManager.newBaseManager();
    }

    private Encoders() {}

    /**
     * The encoder for (architecture, weights, seed) on {@code device}, loaded on first use in this
     * JVM and shared by every task there that uses that device.
     */
    public static VisionTransformer cached(ModelConfig arch, String weights, long seed, Configuration conf,
            Device device) {
        String key = CheckpointFormat.architectureJson(arch) + "|" + weights + "|" + seed + "|" + device;
        return CACHE.computeIfAbsent(key, k -> {
            try {
                return load(ON_DEVICE.computeIfAbsent(device, NDManager::newBaseManager), arch, weights, seed, conf);
            } catch (IOException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        });
    }

    /**
     * Opens {@code weights} and loads it into a throwaway encoder of {@code arch} (names, shapes,
     * dtypes, sizes), once per JVM: what a driver calls before any Spark stage, so that a bad
     * file fails in one line there instead of inside a task.
     */
    public static void check(ModelConfig arch, String weights, Configuration conf) throws IOException {
        String key = CheckpointFormat.architectureJson(arch) + "|" + weights;
        if (CHECKED.contains(key)) {
            return;
        }
        try (NDManager m = MANAGER.newSubManager()) {
            loadInto(new VisionTransformer(m, new SplittableRandom(0), arch, "", null), weights, conf);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
        CHECKED.add(key);
    }

    /** Names of the encoder's tensors in a SiameseIM checkpoint / state dict. */
    public static boolean isEncoderTensor(String name) {
        return EncoderNames.isOurs(name);
    }

    /**
     * Loads the encoder tensors of {@code weights} (a pretrain checkpoint's online encoder, or a
     * timm/MAE/Hugging Face-named safetensors or torch.save file) into {@code enc}; other tensors
     * (decoder, mm_* target, norm, fc_norm, head, integer buffers) are ignored, and missing or misshapen encoder tensors fail with their names.
     */
    public static void loadInto(VisionTransformer enc, String weights, Configuration conf) throws IOException {
        try (WeightsFile file = WeightsFile.open(weights, conf);
                NDManager tmp = enc.posTable().getManager().newSubManager()) {
            List<String> names = new ArrayList<>();
            for (WeightsFile.Tensor t : file.tensors()) {
                names.add(t.name());
                if (EncoderNames.isEncoderTensor(t.name()) && !t.floating()) {
                    throw new CorruptFileException(weights + ": tensor " + t.name() + " has dtype "
                            + (t.dtype() == null ? "complex or quantized" : t.dtype())
                            + "; weights must be F32, F16, BF16 or F64");
                }
            }
            if (names.stream().noneMatch(EncoderNames::isEncoderTensor)) {
                throw new CorruptFileException(weights + " holds no encoder tensors (cls_token, pos_embed, patch_embed.*,"
                        + " blocks.*, or Hugging Face's [vit.]embeddings.*, [vit.]encoder.layer.*): its tensors are "
                        + String.join(", ", names.stream().limit(8).toList()) + (names.size() > 8 ? ", ..." : ""));
            }
            Map<String, NDArray> tensors = EncoderNames.toOurs(file.read(EncoderNames::isEncoderTensor, tmp), weights);
            StateDict.load(enc, tensors, n -> true, weights);
        }
    }

    /**
     * The start of fine-tuning from {@code weights}: the encoder always, and {@code fc_norm} and
     * {@code head} too when the file has them for exactly this class count (the official
     * {@code sim_base_1600ep_finetune.pth}, or a fine-tuned checkpoint continued on the same
     * classes); otherwise the head keeps its fresh initialisation, as {@code main_finetune.py} does.
     *
     * @return whether the head was taken from the file
     */
    public static boolean loadForFinetuning(VitClassifier model, String weights, Configuration conf)
            throws IOException {
        loadInto(model.encoder(), weights, conf);
        try (WeightsFile file = WeightsFile.open(weights, conf);
                NDManager tmp = model.encoder().posTable().getManager().newSubManager()) {
            WeightsFile.Tensor head = file.tensor("head.weight");
            if (head == null || file.tensor("fc_norm.weight") == null || !head.floating()
                    || !head.shape().equals(StateDict.of(model, n -> true).get("head.weight").getShape())) {
                return false;
            }
            StateDict.load(model, file.read(n -> n.startsWith("head.") || n.startsWith("fc_norm."), tmp),
                    n -> n.startsWith("head.") || n.startsWith("fc_norm."), weights);
            return true;
        }
    }

    public static VisionTransformer load(NDManager m, ModelConfig arch, String weights, long seed, Configuration conf)
            throws IOException {
        Torch.init();
        // built exactly as SiameseIM builds its online encoder, so random inits agree with it
        VisionTransformer enc = new VisionTransformer(m, new SplittableRandom(seed), arch, "", null);
        if (weights == null) {
            return enc;
        }
        loadInto(enc, weights, conf);
        enc.setTrainable(false);
        return enc;
    }
}
