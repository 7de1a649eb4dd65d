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

    /**
     * Two blocks on independent inputs, step by step side by side: the same values as
     * {@code a.forward(xa)} and {@code b.forward(xb)}, but with cross-replica BatchNorm each pair
     * of norm layers exchanges its statistics in one message, so replicas synchronise twice
     * instead of four times (the target and online projectors of SiameseIM). With drop path on
     * a shared generator the masks are drawn in another order than two forward calls would.
     *
     * @return {a's output, b's output}
     */
    public static NDArray[] forwardSideBySide(TransformerBlock a, NDArray xa, TransformerBlock b, NDArray xb,
            boolean training) {
        NDArray[] n = TokenNorm.forwardBoth(a.norm1, xa, b.norm1, xb, training);
        xa = xa.add(a.dropPath(a.attn.forward(n[0]), training));
        xb = xb.add(b.dropPath(b.attn.forward(n[1]), training));
        n = TokenNorm.forwardBoth(a.norm2, xa, b.norm2, xb, training);
        return new NDArray[] {xa.add(a.dropPath(a.mlp.forward(n[0]), training)),
            xb.add(b.dropPath(b.mlp.forward(n[1]), training))};
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
