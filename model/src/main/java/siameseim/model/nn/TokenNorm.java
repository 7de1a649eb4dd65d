package siameseim.model.nn;

import ai.djl.ndarray.NDArray;

/** A normalisation of (B, T, C) token tensors: LayerNorm per token or BatchNorm per channel. */
public interface TokenNorm {
    NDArray forward(NDArray x, boolean training);
}
