package siameseim.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.SplittableRandom;

/**
 * Multi-head self-attention with one fused qkv projection (rows [q; k; v], heads contiguous
 * within each), as timm's Attention: softmax(q k^T / sqrt(d)) v, then proj. No dropout.
 */
public final class Attention extends Module {
    private final int heads;
    private final int headDim;
    private final float scale;
    private final Linear qkv;
    private final Linear proj;

    public Attention(NDManager m, SplittableRandom rng, int dim, int heads) {
        this.heads = heads;
        this.headDim = dim / heads;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        qkv = child("qkv", new Linear(m, rng, dim, 3 * dim));
        proj = child("proj", new Linear(m, rng, dim, dim));
    }

    public NDArray forward(NDArray x) {
        long b = x.getShape().get(0);
        long n = x.getShape().get(1);
        long c = x.getShape().get(2);
        // (B, N, 3C) -> (3, B, H, N, d)
        NDArray qkvOut = qkv.forward(x).reshape(b, n, 3, heads, headDim).transpose(2, 0, 3, 1, 4);
        NDArray q = Scalars.mul(qkvOut.get(0), scale);
        NDArray k = qkvOut.get(1);
        NDArray v = qkvOut.get(2);
        NDArray attn = q.matMul(k.transpose(0, 1, 3, 2)).softmax(-1);
        NDArray out = attn.matMul(v).transpose(0, 2, 1, 3).reshape(b, n, c);
        return proj.forward(out);
    }
}
