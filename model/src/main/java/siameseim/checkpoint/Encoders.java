package siameseim.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import siameseim.config.ModelConfig;
import siameseim.model.io.Safetensors;
import siameseim.model.io.StateDict;
import siameseim.model.nn.Torch;
import siameseim.model.vit.VisionTransformer;

/**
 * The encoder an evaluation runs on: the online encoder of a pretrain checkpoint (never the EMA
 * copy, spec 5.1), a safetensors file with timm/MAE names (what {@code bin/siameseim export}
 * writes, or official weights converted to safetensors), or a random initialisation for
 * baselines. Loaded once per JVM and shared by the tasks that run there.
 */
public final class Encoders {
    private static final Map<String, VisionTransformer> CACHE = new ConcurrentHashMap<>();
    private static final NDManager MANAGER;

    static {
        Torch.init();
        MANAGER = NDManager.newBaseManager();
    }

    private Encoders() {}

    /** The encoder for (architecture, weights, seed), loaded on first use in this JVM. */
    public static VisionTransformer cached(ModelConfig arch, String weights, long seed, Configuration conf) {
        String key = CheckpointFormat.architectureJson(arch) + "|" + weights + "|" + seed;
        return CACHE.computeIfAbsent(key, k -> {
            try {
                return load(MANAGER, arch, weights, seed, conf);
            } catch (IOException e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        });
    }

    /** Names of the encoder's tensors in a SiameseIM checkpoint / state dict. */
    public static boolean isEncoderTensor(String name) {
        return name.equals("cls_token") || name.equals("pos_embed") || name.startsWith("patch_embed.")
                || name.startsWith("blocks.");
    }

    /**
     * Loads the encoder tensors of {@code weights} (a pretrain checkpoint's online encoder or a
     * timm/MAE-named safetensors file) into {@code enc}; other tensors (decoder, mm_* target,
     * head) are ignored, and missing or misshapen encoder tensors fail with their names.
     */
    public static void loadInto(VisionTransformer enc, String weights, Configuration conf) throws IOException {
        Path p = new Path(weights);
        try (InputStream in = p.getFileSystem(conf).open(p);
                NDManager tmp = enc.posTable().getManager().newSubManager()) {
            Safetensors.Contents c = Safetensors.read(in, tmp, weights);
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            c.tensors().forEach((k, v) -> {
                if (isEncoderTensor(k)) {
                    tensors.put(k, v);
                }
            });
            if (tensors.isEmpty()) {
                throw new IOException(weights + " holds no encoder tensors (cls_token, pos_embed, patch_embed.*,"
                        + " blocks.*): its tensors are " + String.join(", ", c.tensors().keySet().stream().limit(8)
                        .toList()) + (c.tensors().size() > 8 ? ", ..." : ""));
            }
            StateDict.load(enc, tensors, n -> true, weights);
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
