package siameseim.model.nn;

import ai.djl.ndarray.NDArray;

/** A normalisation of (B, T, C) token tensors: LayerNorm per token or BatchNorm per channel. */
public interface TokenNorm {
    NDArray forward(NDArray x, boolean training);

    /**
     * {@code a.forward(xa)} and {@code b.forward(xb)}; two cross-replica BatchNorms over the
     * same reduction exchange their statistics in one message.
     */
    static NDArray[] forwardBoth(TokenNorm a, NDArray xa, TokenNorm b, NDArray xb, boolean training) {
        if (a instanceof TokenBatchNorm ba && b instanceof TokenBatchNorm bb
                && TokenBatchNorm.canShareExchange(ba, bb, training)) {
            return TokenBatchNorm.forwardTogether(new TokenBatchNorm[] {ba, bb}, new NDArray[] {xa, xb});
        }
        return new NDArray[] {a.forward(xa, training), b.forward(xb, training)};
    }
}
