package siameseim.model.vit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import siameseim.config.ModelConfig;
import siameseim.model.nn.Init;
import siameseim.model.nn.LayerNorm;
import siameseim.model.nn.Linear;
import siameseim.model.nn.Module;

/**
 * The fine-tuning model of spec 5.2 (timm's VisionTransformer with global_pool): the encoder,
 * the average of the patch tokens (CLS excluded), a new LayerNorm {@code fc_norm} (eps 1e-6) and
 * a Linear {@code head} (weight trunc-normal std 2e-5, bias 0). Tensor names are timm's, so a
 * fine-tuned state dict loads into timm/MAE code and back.
 */
public final class VitClassifier extends Module {
    private final VisionTransformer encoder;
    private final LayerNorm fcNorm;
    private final Linear head;
    private final int classes;

    /**
     * @param seed the encoder is built exactly as {@code SiameseIM} builds its online encoder from
     *     this seed (random-init baselines agree); the head uses its own stream
     */
    public VitClassifier(NDManager m, ModelConfig cfg, int classes, double dropPath, long seed) {
        this.classes = classes;
        this.encoder = child("", new VisionTransformer(m, new SplittableRandom(seed), cfg, "", null));
        encoder.setDropPath(dropPath);
        int d = cfg.encoder().width();
        this.fcNorm = child("fc_norm", new LayerNorm(m, d, 1e-6f, true));
        SplittableRandom headRng = new SplittableRandom(seed ^ 0x6865616400000000L);
        this.head = child("head", new Linear(Init.truncatedNormal(m, headRng, new Shape(classes, d), 2e-5),
                m.zeros(new Shape(classes))));
    }

    public VisionTransformer encoder() {
        return encoder;
    }

    public int classes() {
        return classes;
    }

    /** Logits (B, classes) of normalised images (B, 3, S, S). */
    public NDArray forward(NDArray images, boolean training) {
        NDArray tokens = encoder.forwardAll(images, training);
        NDArray pooled = tokens.get(new NDIndex(":, 1:, :")).mean(new int[] {1});
        return head.forward(fcNorm.forward(pooled));
    }

    /**
     * The layer id of a tensor for layer-wise lr decay (timm/BEiT {@code get_layer_id_for_vit}):
     * 0 for cls_token, pos_embed and patch_embed, k + 1 for block k, depth + 1 for the rest.
     */
    public static int layerId(String name, int depth) {
        if (name.equals("cls_token") || name.equals("pos_embed") || name.startsWith("patch_embed.")) {
            return 0;
        }
        if (name.startsWith("blocks.")) {
            int dot = name.indexOf('.', 7);
            return Integer.parseInt(name.substring(7, dot)) + 1;
        }
        return depth + 1;
    }

    /** The lr multiplier of a tensor: decay^(depth + 1 - layer id). */
    public static double layerScale(String name, int depth, double decay) {
        return Math.pow(decay, depth + 1 - layerId(name, depth));
    }
}
