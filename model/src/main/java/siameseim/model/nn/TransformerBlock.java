package siameseim.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * Pre-norm ViT block: x + attn(norm1(x)), then x + mlp(norm2(x)); optional drop path (stochastic
 * depth per sample). Encoder blocks use LayerNorm eps 1e-6; projector/predictor blocks use
 * per-token BatchNorm (or LayerNorm with the use_proj_ln option).
 */
public final class TransformerBlock extends Module {
    /** Which normalisation a block uses. */
    public enum Norm {
        LAYER,
        BATCH
    }

    private final TokenNorm norm1;
    private final Attention attn;
    private final TokenNorm norm2;
    private final Mlp mlp;
    private double dropPath;
    private SplittableRandom dropRng;

    public TransformerBlock(NDManager m, SplittableRandom rng, int dim, int heads, int mlpRatio, Norm norm,
            double dropPath) {
        this.norm1 = makeNorm(m, dim, norm, "norm1");
        this.attn = child("attn", new Attention(m, rng, dim, heads));
        this.norm2 = makeNorm(m, dim, norm, "norm2");
        this.mlp = child("mlp", new Mlp(m, rng, dim, dim * mlpRatio));
        this.dropPath = dropPath;
    }

    private TokenNorm makeNorm(NDManager m, int dim, Norm norm, String name) {
        if (norm == Norm.LAYER) {
            return child(name, new LayerNorm(m, dim, 1e-6f, true));
        }
        return child(name, new TokenBatchNorm(m, dim, 1e-5f));
    }

    public NDArray forward(NDArray x, boolean training) {
        NDArray h = attn.forward(norm1.forward(x, training));
        x = x.add(dropPath(h, training));
        h = mlp.forward(norm2.forward(x, training));
        return x.add(dropPath(h, training));
    }

    public void setDropPath(double rate) {
        this.dropPath = rate;
    }

    /**
     * Draws the drop-path masks from {@code rng} (deterministic, resumable training); null uses
     * the engine's global generator.
     */
    public void setDropPathRandom(SplittableRandom rng) {
        this.dropRng = rng;
    }

    /** Sets the cross-replica reduction of this block's BatchNorms (no-op for LayerNorm). */
    public void setCrossReplica(CrossReplicaMean replicas) {
        if (norm1 instanceof TokenBatchNorm bn1) {
            bn1.setCrossReplica(replicas);
        }
        if (norm2 instanceof TokenBatchNorm bn2) {
            bn2.setCrossReplica(replicas);
        }
    }

    private NDArray dropPath(NDArray h, boolean training) {
        if (!training || dropPath <= 0) {
            return h;
        }
        float keep = (float) (1 - dropPath);
        int b = (int) h.getShape().get(0);
        Shape s = new Shape(b, 1, 1);
        if (dropRng != null) {
            float[] m = new float[b];
            for (int i = 0; i < b; i++) {
                m[i] = dropRng.nextDouble() < keep ? 1 / keep : 0f;
            }
            return h.mul(h.getManager().create(m, s));
        }
        NDArray mask = Scalars.div(h.getManager().randomUniform(0f, 1f, s).lt(keep).toType(DataType.FLOAT32, false),
                keep);
        return h.mul(mask);
    }
}
