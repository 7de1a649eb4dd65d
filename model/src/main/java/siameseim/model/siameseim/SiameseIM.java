package siameseim.model.siameseim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import siameseim.config.ModelConfig;
import siameseim.model.nn.CrossReplicaMean;
import siameseim.model.nn.Init;
import siameseim.model.nn.Linear;
import siameseim.model.nn.Module;
import siameseim.model.nn.Param;
import siameseim.model.nn.TransformerBlock;
import siameseim.model.vit.SinCos;
import siameseim.model.vit.VisionTransformer;

/**
 * Siamese Image Modeling (spec 2): an online branch that sees the visible tokens of view 1 and
 * predicts, for every patch of view 2, the EMA target's features of that patch, at a query
 * placed by the relative geometry of the two crops.
 *
 * <p>Tensor names are the reference's state_dict names; the target copies carry the
 * {@code mm_} prefix. {@link #forward} is the training pass: {@link #predict} the online
 * branch, {@link #targetTokens} the target branch, {@link UniGradLoss} the loss;
 * {@link #updateTarget} is the EMA.
 */
public final class SiameseIM extends Module {
    private final ModelConfig cfg;
    private final int decWidth;

    // online
    private final VisionTransformer encoder;
    private final Linear decoderEmbed;
    private final List<TransformerBlock> projector = new ArrayList<>();
    private final Param maskToken;
    private final Param decoderPosEmbed;
    private final Linear decoderPosMlp;
    private final List<TransformerBlock> predictor = new ArrayList<>();
    private final Linear decoderPred;

    // target (EMA of encoder + decoder_embed + projector; no gradient)
    private final VisionTransformer targetEncoder;
    private final Linear targetDecoderEmbed;
    private final List<TransformerBlock> targetProjector = new ArrayList<>();
    private final Param targetMaskToken;

    private final UniGradLoss loss;
    private final Map<Param, Param> emaPairs = new LinkedHashMap<>();

    public SiameseIM(NDManager m, ModelConfig cfg, double negWeight, long seed) {
        this.cfg = cfg;
        SplittableRandom rng = new SplittableRandom(seed);
        ModelConfig.Decoder d = cfg.decoder();
        this.decWidth = d.width();
        int mlpRatio = cfg.encoder().mlpRatio();
        TransformerBlock.Norm norm = d.norm() == ModelConfig.NormKind.BATCH
                ? TransformerBlock.Norm.BATCH : TransformerBlock.Norm.LAYER;

        encoder = child("", new VisionTransformer(m, rng, cfg, "", null));
        decoderEmbed = child("decoder_embed", new Linear(m, rng, cfg.encoder().width(), decWidth));
        for (int i = 0; i < d.projectorDepth(); i++) {
            projector.add(child("projector_decoder_blocks." + i,
                    new TransformerBlock(m, rng, decWidth, d.heads(), mlpRatio, norm, 0)));
        }
        maskToken = param("mask_token", Init.normal(m, rng, new Shape(1, 1, decWidth), 0.02), Param.Kind.TRAINABLE);
        decoderPosEmbed = param("decoder_pos_embed", SinCos.table2d(m, decWidth, cfg.grid()), Param.Kind.FROZEN);
        decoderPosMlp = child("decoder_pos_mlp", new Linear(m, rng, 2 * decWidth, decWidth));
        for (int i = 0; i < d.predictorDepth(); i++) {
            predictor.add(child("predictor_decoder_blocks." + i,
                    new TransformerBlock(m, rng, decWidth, d.heads(), mlpRatio, norm, 0)));
        }
        decoderPred = child("decoder_pred", new Linear(m, rng, decWidth, decWidth));

        // the patch projection stays at its random init for the whole pretraining (spec 2.7)
        encoder.patchEmbed().setTrainable(false);

        targetEncoder = child("", new VisionTransformer(m, rng, cfg, "mm_", encoder.posParam()));
        targetDecoderEmbed = child("mm_decoder_embed", new Linear(m, rng, cfg.encoder().width(), decWidth));
        for (int i = 0; i < d.projectorDepth(); i++) {
            targetProjector.add(child("mm_projector_decoder_blocks." + i,
                    new TransformerBlock(m, rng, decWidth, d.heads(), mlpRatio, norm, 0)));
        }
        targetMaskToken = param("mm_mask_token", m.zeros(new Shape(1, 1, decWidth)), Param.Kind.FROZEN);
        targetEncoder.setTrainable(false);
        targetDecoderEmbed.setTrainable(false);
        targetProjector.forEach(b -> b.setTrainable(false));

        loss = new UniGradLoss(m, decWidth, negWeight);
        pairTargets();
        copyOnlineToTarget();
    }

    public ModelConfig config() {
        return cfg;
    }

    /** The online encoder, the part kept for downstream tasks. */
    public VisionTransformer encoder() {
        return encoder;
    }

    public UniGradLoss loss() {
        return loss;
    }

    /** Routes BatchNorm statistics and the UniGrad correlation matrix through {@code replicas}. */
    public void setCrossReplica(CrossReplicaMean replicas) {
        projector.forEach(b -> b.setCrossReplica(replicas));
        predictor.forEach(b -> b.setCrossReplica(replicas));
        targetProjector.forEach(b -> b.setCrossReplica(replicas));
        loss.setCrossReplica(replicas);
    }

    /** One training forward pass: the online predictions, the raw target tokens and the loss. */
    public record Forward(NDArray predictions, NDArray targets, UniGradLoss.Result loss) {}

    /**
     * The training forward pass, spec 2 in its order: the online branch ({@link #predict}), the
     * target branch ({@link #targetTokens}) and the UniGrad loss (spec 3) between them. Runs
     * inside the step's autograd recording: the target branch's tensors and inputs require no
     * gradient, so it records no graph.
     *
     * @param x1 (B, 3, H, W) normalised view 1
     * @param visible (B, Lv) int64 raster indices of the unmasked view-1 patches
     * @param geometry (B, 6) relative geometry rows (spec 1.2)
     * @param x2 (B, 3, H, W) normalised view 2
     */
    public Forward forward(NDArray x1, NDArray visible, NDArray geometry, NDArray x2) {
        NDArray predictions = predict(x1, visible, geometry, true);
        NDArray targets = targetTokens(x2);
        return new Forward(predictions, targets, loss.compute(predictions, targets));
    }

    /**
     * Online branch (spec 2.3-2.4): view 1's visible tokens through the encoder (no final norm),
     * decoder_embed and projector; then [CLS | visible + fixed decoder positions | L queries]
     * through the predictor; decoder_pred on the L query outputs.
     *
     * @return predictions (B, L, Dd)
     */
    public NDArray predict(NDArray x1, NDArray visible, NDArray geometry, boolean training) {
        NDArray z = decoderEmbed.forward(encoder.forwardVisible(x1, visible, training));
        for (TransformerBlock blk : projector) {
            z = blk.forward(z, training);
        }
        long b = z.getShape().get(0);
        int tokens = cfg.tokens();
        z = z.add(decoderPositions(visible, b));
        NDArray e = RelativeEmbedding.embed(geometry, cfg.grid(), decWidth);
        NDArray queries = decoderPosMlp.forward(e).add(maskToken.array());
        NDArray seq = NDArrays.concat(new NDList(z, queries), 1);
        for (TransformerBlock blk : predictor) {
            seq = blk.forward(seq, training);
        }
        // decoder_pred is per token, so applying it to the query outputs only gives the same values
        NDArray out = seq.get(new NDIndex(":, {}:, :", seq.getShape().get(1) - tokens));
        return decoderPred.forward(out);
    }

    /** (B, 1 + Lv, Dd): zeros for CLS, the fixed decoder table rows of the visible patches. */
    private NDArray decoderPositions(NDArray visible, long b) {
        NDManager sm = visible.getManager();
        NDArray rows = decoderPosEmbed.array().get(new NDIndex(":, 1:, :"));
        rows.attach(sm);
        NDArray table = rows.broadcast(new Shape(b, cfg.tokens(), decWidth));
        NDArray vis = VisionTransformer.gatherTokens(table, visible);
        NDArray cls = sm.zeros(new Shape(b, 1, decWidth));
        return NDArrays.concat(new NDList(cls, vis), 1);
    }

    /**
     * Target branch (spec 2.5): view 2, all tokens, through the EMA encoder, decoder_embed and
     * projector (BatchNorm in training mode); none of its tensors takes a gradient.
     *
     * @return (B, L, Dd) target tokens before the teacher LayerNorm
     */
    public NDArray targetTokens(NDArray x2) {
        NDArray t = targetDecoderEmbed.forward(targetEncoder.forwardAll(x2, true));
        for (TransformerBlock blk : targetProjector) {
            t = blk.forward(t, true);
        }
        return t.get(new NDIndex(":, 1:, :")); // CLS dropped
    }

    /**
     * EMA (spec 2.8): theta_t <- m theta_t + (1 - m) theta_online for every trainable online
     * tensor that has an {@code mm_} twin (cls_token, blocks, decoder_embed, mask_token,
     * projector; BatchNorm running statistics are not averaged). The frozen patch embedding is
     * identical in both and is skipped, which keeps it bit-identical.
     */
    public void updateTarget(double momentum) {
        float keep = (float) momentum;
        float take = (float) (1 - momentum);
        for (Map.Entry<Param, Param> e : emaPairs.entrySet()) {
            NDArray online = e.getKey().array();
            NDArray target = e.getValue().array();
            try (NDArray part = online.mul(take)) {
                target.muli(keep).addi(part);
            }
        }
    }

    /** Sets every target tensor to its online twin (construction, import of online-only weights). */
    public void copyOnlineToTarget() {
        Map<String, Param> all = namedParams();
        for (Map.Entry<String, Param> e : all.entrySet()) {
            Param twin = all.get("mm_" + e.getKey());
            if (twin != null && !e.getKey().startsWith("mm_")) {
                twin.copyFrom(e.getValue().array());
            }
        }
    }

    /** Online tensors that have an EMA twin, and the twin. */
    public Map<Param, Param> emaPairs() {
        return emaPairs;
    }

    private void pairTargets() {
        Map<String, Param> all = namedParams();
        for (Map.Entry<String, Param> e : all.entrySet()) {
            Param twin = all.get("mm_" + e.getKey());
            if (twin != null && e.getValue().trainable()) {
                emaPairs.put(e.getValue(), twin);
            }
        }
    }
}
