package siameseim.train;

import siameseim.config.MaskConfig;
import siameseim.config.ModelConfig;

/**
 * Analytic FLOPs of one SiameseIM training step per image (multiply-add = 2 FLOPs; matrix
 * products, attention scores and values only; norms, softmax and element-wise ops omitted).
 * Online parts cost forward + backward = 3x forward; the target branch and the frozen patch
 * embedding are forward only.
 */
public final class FlopCount {
    private FlopCount() {}

    /** Forward FLOPs of one transformer block over {@code t} tokens of width {@code d}. */
    static double block(double t, double d, int mlpRatio) {
        return (8 + 4.0 * mlpRatio) * t * d * d + 4 * t * t * d;
    }

    /** Forward FLOPs of the encoder over one whole image (all tokens): what embedding an image costs. */
    public static double encoderForward(ModelConfig m) {
        double l = m.tokens();
        return 2 * l * 3.0 * m.patchSize() * m.patchSize() * m.encoder().width()
                + m.encoder().depth() * block(1 + l, m.encoder().width(), m.encoder().mlpRatio());
    }

    public static double perImage(ModelConfig m, MaskConfig mask) {
        double l = m.tokens();
        double lv = l - mask.count();
        double d = m.encoder().width();
        double dd = m.decoder().width();
        int r = m.encoder().mlpRatio();
        double patchIn = 3.0 * m.patchSize() * m.patchSize();

        double online = 0;
        online += m.encoder().depth() * block(1 + lv, d, r);
        online += 2 * (1 + lv) * d * dd; // decoder_embed
        online += m.decoder().projectorDepth() * block(1 + lv, dd, r);
        online += 2 * l * 2 * dd * dd; // decoder_pos_mlp
        online += m.decoder().predictorDepth() * block(1 + lv + l, dd, r);
        online += 2 * l * dd * dd; // decoder_pred
        online += 2 * l * dd * dd; // loss: P C

        double forwardOnly = 2 * l * patchIn * d; // frozen online patch embedding
        forwardOnly += 2 * l * patchIn * d; // target patch embedding
        forwardOnly += m.encoder().depth() * block(1 + l, d, r);
        forwardOnly += 2 * (1 + l) * d * dd;
        forwardOnly += m.decoder().projectorDepth() * block(1 + l, dd, r);
        forwardOnly += 2 * l * dd * dd; // T^T T
        return 3 * online + forwardOnly;
    }
}
