package siameseim.train;

import java.util.List;
import siameseim.model.optim.AdamW;

/**
 * The optimizer update shared by the trainers: a step whose loss or gradient norm is not finite
 * is skipped (gradients zeroed), and too many in a row fail the run with the tensors at fault;
 * otherwise the gradients are clipped to {@code clip} global norm (0: no clipping) and AdamW steps.
 */
final class GuardedUpdate {
    private static final int MAX_CONSECUTIVE_SKIPS = 10;
    private int consecutiveSkips;

    /** @return true when the step was skipped */
    boolean apply(AdamW optimizer, double norm, double loss, double lr, double clip, long step, String hint) {
        if (!Double.isFinite(norm) || !Double.isFinite(loss)) {
            List<String> bad = optimizer.nonFiniteGradients();
            optimizer.zeroGradients();
            if (++consecutiveSkips >= MAX_CONSECUTIVE_SKIPS) {
                throw new IllegalStateException("loss or gradient norm was not finite for " + consecutiveSkips
                        + " steps in a row (last step " + step + ", loss " + loss + ", grad norm " + norm
                        + ", non-finite gradients of " + bad.size() + " tensors, e.g. "
                        + bad.subList(0, Math.min(4, bad.size())) + "); " + hint);
            }
            return true;
        }
        consecutiveSkips = 0;
        double scale = clip > 0 ? Math.min(1.0, clip / (norm + 1e-6)) : 1.0;
        optimizer.step(lr, scale);
        return false;
    }
}
