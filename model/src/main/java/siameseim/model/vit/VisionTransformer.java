package siameseim.model.vit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import siameseim.config.ModelConfig;
import siameseim.model.nn.CrossReplicaMean;
import siameseim.model.nn.Init;
import siameseim.model.nn.Module;
import siameseim.model.nn.Param;
import siameseim.model.nn.PatchEmbed;
import siameseim.model.nn.TransformerBlock;

/**
 * The ViT encoder (spec 2.1, 5): patch embedding + fixed 2-D sin-cos positions + CLS token +
 * pre-LN blocks, and no final norm (the reference never uses one). Tensor names are the
 * timm/MAE names ({@code cls_token}, {@code pos_embed}, {@code patch_embed.proj.weight},
 * {@code blocks.N.attn.qkv.weight}, ...), optionally prefixed ({@code mm_} for the EMA target).
 */
public final class VisionTransformer extends Module {
    private final int width;
    private final int tokens;
    private final Param clsToken;
    private final Param posEmbed;
    private final PatchEmbed patchEmbed;
    private final List<TransformerBlock> blocks = new ArrayList<>();

    /**
     * @param prefix name prefix of every tensor ("" online, "mm_" target)
     * @param sharedPos null: own a frozen {@code pos_embed} tensor; otherwise use this one (the
     *     target shares the online encoder's fixed table and has no tensor of its own)
     */
    public VisionTransformer(NDManager m, SplittableRandom rng, ModelConfig cfg, String prefix, Param sharedPos) {
        ModelConfig.Encoder e = cfg.encoder();
        this.width = e.width();
        this.tokens = cfg.tokens();
        this.patchEmbed = child(prefix + "patch_embed", new PatchEmbed(m, rng, cfg.patchSize(), 3, width));
        this.clsToken = param(prefix + "cls_token", Init.normal(m, rng, new Shape(1, 1, width), 0.02),
                Param.Kind.TRAINABLE);
        this.posEmbed = sharedPos != null ? sharedPos
                : param("pos_embed", SinCos.table2d(m, width, cfg.grid()), Param.Kind.FROZEN);
        for (int i = 0; i < e.depth(); i++) {
            blocks.add(child(prefix + "blocks." + i, new TransformerBlock(m, rng, width, e.heads(), e.mlpRatio(),
                    TransformerBlock.Norm.LAYER, 0)));
        }
        setDropPath(e.dropPath());
    }

    /** Sets where every block draws its drop-path masks (see {@link TransformerBlock#setDropPathRandom}). */
    public void setDropPathRandom(SplittableRandom rng) {
        for (TransformerBlock blk : blocks) {
            blk.setDropPathRandom(rng);
        }
    }

    /** Stochastic depth rising linearly from 0 (first block) to {@code max} (last), as timm; 0 in pretraining. */
    public void setDropPath(double max) {
        int n = blocks.size();
        for (int i = 0; i < n; i++) {
            blocks.get(i).setDropPath(n == 1 ? max : max * i / (n - 1));
        }
    }

    /** The fixed position table (1, 1 + L, D), CLS row zero. */
    public NDArray posTable() {
        return posEmbed.array();
    }

    /** The tensor holding the fixed position table. */
    public Param posParam() {
        return posEmbed;
    }

    public PatchEmbed patchEmbed() {
        return patchEmbed;
    }

    public int width() {
        return width;
    }

    public int depth() {
        return blocks.size();
    }

    /** Patch tokens with their positions, (B, L, D). */
    public NDArray embedPatches(NDArray images) {
        NDArray t = patchEmbed.forward(images);
        try (NDArray pos = posTable().get(new NDIndex(":, 1:, :"))) {
            return t.add(pos);
        }
    }

    /** Prepends CLS (+ its zero position row) to (B, N, D) tokens. */
    public NDArray prependCls(NDArray tokens) {
        long b = tokens.getShape().get(0);
        NDArray cls = tokens.getManager().zeros(new Shape(b, 1, width)).add(clsToken.array());
        return NDArrays.concat(new NDList(cls, tokens), 1);
    }

    /**
     * Online view-1 path (spec 2.3): only the visible tokens, given as (B, Lv) int64 raster
     * indices, enter the blocks. Output (B, 1 + Lv, D), no final norm.
     */
    public NDArray forwardVisible(NDArray images, NDArray visible, boolean training) {
        NDArray t = gatherTokens(embedPatches(images), visible);
        return runBlocks(prependCls(t), training);
    }

    /** All tokens (target branch, feature extraction): (B, 1 + L, D), no final norm. */
    public NDArray forwardAll(NDArray images, boolean training) {
        return runBlocks(prependCls(embedPatches(images)), training);
    }

    public NDArray runBlocks(NDArray x, boolean training) {
        for (TransformerBlock blk : blocks) {
            x = blk.forward(x, training);
        }
        return x;
    }

    /** Rows {@code idx} (B, K) int64 of (B, N, C) tokens, in the order given. */
    public static NDArray gatherTokens(NDArray tokens, NDArray idx) {
        long b = idx.getShape().get(0);
        long k = idx.getShape().get(1);
        long c = tokens.getShape().get(2);
        NDArray expanded = idx.expandDims(2).broadcast(new Shape(b, k, c));
        return tokens.gather(expanded, 1);
    }

    /** Sets the cross-replica reduction for BatchNorm blocks (encoder blocks use LayerNorm). */
    public void setCrossReplica(CrossReplicaMean replicas) {
        for (TransformerBlock blk : blocks) {
            blk.setCrossReplica(replicas);
        }
    }

    public int tokens() {
        return tokens;
    }
}
