package siameseim.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * The reference's "PermuteBN": BatchNorm over channels with statistics over every (sample, token)
 * position (spec 2.1), eps 1e-5, momentum 0.1, affine. Its tensors are named {@code bn.*} as in
 * the reference state_dict.
 *
 * <p>One replica: PyTorch's fused batch_norm on the (B*T, C) view, which is the same statistics
 * as BatchNorm1d on (B, C, T) without the two transposes. Several replicas: the statistics are
 * the global batch's (SyncBN forward), reduced through {@link CrossReplicaMean}; the backward
 * pass is the fused batch_norm's through this replica's own statistics, rescaled to the global
 * normalisation (see docs/distributed.md for the measured gap to SyncBN's backward).
 */
public final class TokenBatchNorm extends Module implements TokenNorm {
    private static final float MOMENTUM = 0.1f;
    private final int channels;
    private final float eps;
    private final Param weight;
    private final Param bias;
    private final Param runningMean;
    private final Param runningVar;
    private CrossReplicaMean replicas = CrossReplicaMean.SINGLE;

    public TokenBatchNorm(NDManager m, int channels, float eps) {
        this.channels = channels;
        this.eps = eps;
        Shape s = new Shape(channels);
        weight = param("bn.weight", m.ones(s), Param.Kind.TRAINABLE);
        bias = param("bn.bias", m.zeros(s), Param.Kind.TRAINABLE);
        runningMean = param("bn.running_mean", m.zeros(s), Param.Kind.BUFFER);
        runningVar = param("bn.running_var", m.ones(s), Param.Kind.BUFFER);
    }

    public void setCrossReplica(CrossReplicaMean replicas) {
        this.replicas = replicas;
    }

    @Override
    public NDArray forward(NDArray x, boolean training) {
        Shape shape = x.getShape();
        NDArray flat = x.reshape(-1, channels);
        NDArray y;
        if (!training || replicas.replicas() == 1) {
            // DJL's momentum is 1 - PyTorch's momentum
            y = flat.getNDArrayInternal()
                    .batchNorm(flat, runningMean.array(), runningVar.array(), weight.array(), bias.array(), -1,
                            1f - MOMENTUM, eps, training)
                    .singletonOrThrow();
        } else {
            y = globalBatchNorm(flat);
        }
        return y.reshape(shape);
    }

    /**
     * SyncBN's forward in one fused batch_norm call. The replica's own statistics m, v are taken
     * without autograd and exchanged for the global ones M, V; then
     * {@code (x - M) / sqrt(V + eps) = a * (x - m) / sqrt(v + eps) + c} with the constants
     * {@code a = sqrt(v + eps) / sqrt(V + eps)} and {@code c = (m - M) / sqrt(V + eps)}, so the
     * layer is PyTorch's training-mode batch_norm with weight {@code w * a} and bias
     * {@code w * c + b}. The backward is batch_norm's own (through the local statistics), scaled
     * to the global normalisation; SyncBN's exact backward would need the other replicas'
     * gradient sums mid-backward, which DJL's autograd cannot fetch. One fused op instead of
     * eight recorded element-wise ones: 18-24 instead of 93-96 ms per demo step over one
     * replica's BatchNorm on a CPU core (docs/distributed.md).
     */
    private NDArray globalBatchNorm(NDArray flat) {
        long localCount = flat.getShape().get(0);
        NDArray[] global;
        NDArray localMean;
        NDArray localVar;
        // weight 1 and bias 0 of the statistics pass, then the second call's scratch running
        // buffers (torch updates those with the local statistics; the module's own buffers get
        // the global ones below)
        Shape s = new Shape(channels);
        NDArray one = flat.getManager().ones(s);
        NDArray zero = flat.getManager().zeros(s);
        // the local moments from one fused pass: training-mode batch_norm with momentum 1 leaves
        // the batch mean and the unbiased variance in its running buffers (the normalised output
        // is dropped); four separate reductions and element-wise ops cost twice as much
        try (NDArray x = flat.stopGradient()) {
            localMean = zero.zerosLike();
            NDArray unbiased = one.onesLike();
            x.getNDArrayInternal().batchNorm(x, localMean, unbiased, one, zero, -1, 0f, eps, true)
                    .singletonOrThrow().close();
            localVar = unbiased.muli((localCount - 1) / (float) localCount);
            global = replicas.moments(localMean, localVar);
        }
        NDArray gMean = global[0];
        NDArray gVar = global[1];
        NDArray gStd = Scalars.add(gVar, eps).sqrt();
        NDArray scale = Scalars.add(localVar, eps).sqrt().divi(gStd);
        NDArray shift = localMean.sub(gMean).divi(gStd);
        NDArray w = weight.array();
        NDArray y = flat.getNDArrayInternal()
                .batchNorm(flat, zero, one, w.mul(scale), w.mul(shift).add(bias.array()), -1, 1f - MOMENTUM, eps,
                        true)
                .singletonOrThrow();
        long n = localCount * replicas.replicas();
        NDArray rm = runningMean.array();
        NDArray rv = runningVar.array();
        rm.muli(1 - MOMENTUM).addi(gMean.mul(MOMENTUM));
        rv.muli(1 - MOMENTUM).addi(gVar.mul((float) (MOMENTUM * n / (double) Math.max(1, n - 1))));
        return y;
    }
}
