package siameseim.model.siameseim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import siameseim.model.nn.Autocast;
import siameseim.model.nn.CrossReplicaMean;
import siameseim.model.nn.LayerNorm;
import siameseim.model.nn.Scalars;

/**
 * UniGrad loss (spec 3) over all M = B L view-2 tokens:
 *
 * <pre>
 *   T = LayerNorm_no_affine(target), eps 1e-5
 *   pos = mean_i |p_i - t_i|^2
 *   C = T^T T / M           (Dd x Dd, averaged over replicas, no gradient)
 *   neg = mean_i p_i^T C p_i
 *   L = (pos + lambda neg) / Dd
 * </pre>
 *
 * neg is the row sums of (P C) * P: the reference forms the M x M matrix P C P^T and keeps its
 * diagonal, which costs M^2 Dd more FLOPs and M^2 floats for the same value.
 */
public final class UniGradLoss {
    private final double negWeight;
    private final int width;
    private final LayerNorm teacherNorm;
    private CrossReplicaMean replicas = CrossReplicaMean.SINGLE;

    /** The loss value and its parts; {@code targetNorm} is T as (B, L, Dd). */
    public record Result(NDArray loss, NDArray pos, NDArray neg, NDArray targetNorm) {}

    public UniGradLoss(NDManager m, int width, double negWeight) {
        this.width = width;
        this.negWeight = negWeight;
        this.teacherNorm = new LayerNorm(m, width, 1e-5f, false);
    }

    public void setCrossReplica(CrossReplicaMean replicas) {
        this.replicas = replicas;
    }

    /**
     * In fp32 always: under fp16 autocast the inputs are widened and autocast is off here, as the
     * official code computes the loss ({@code autocast(enabled=False)}, {@code pred.float()}).
     *
     * @param pred (B, L, Dd) predictions; @param target (B, L, Dd) raw target tokens (no grad)
     */
    public Result compute(NDArray pred, NDArray target) {
        return Autocast.off(pred.getDevice(), () -> computeFp32(Autocast.toFloat32(pred), Autocast.toFloat32(target)));
    }

    private Result computeFp32(NDArray pred, NDArray target) {
        NDArray t = teacherNorm.forward(target.stopGradient());
        NDArray p = pred.reshape(-1, width);
        NDArray tf = t.reshape(-1, width);
        long m = tf.getShape().get(0);
        NDArray corr = replicas.average(Scalars.div(tf.transpose().matMul(tf), m));
        NDArray pos = p.sub(tf).square().sum(new int[] {1}).mean();
        NDArray neg = p.matMul(corr).mul(p).sum(new int[] {1}).mean();
        NDArray loss = Scalars.div(pos.add(Scalars.mul(neg, negWeight)), width);
        return new Result(loss, pos, neg, t);
    }
}
