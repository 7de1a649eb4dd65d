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
 * pass differentiates through them as if they were this replica's own statistics (see
 * docs/distributed.md for the measured gap to SyncBN's backward).
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

    private NDArray globalBatchNorm(NDArray flat) {
        long localCount = flat.getShape().get(0);
        NDArray mean = flat.mean(new int[] {0});
        NDArray localVar = flat.sub(mean).square().mean(new int[] {0});
        NDArray[] global;
        try (NDArray m = mean.stopGradient();
                NDArray v = localVar.stopGradient()) {
            global = replicas.moments(m, v);
        }
        NDArray gMean = global[0];
        NDArray gVar = global[1];
        // value = the global statistic; gradient = as if the statistic were this replica's own
        // (the local mean estimates the global one; SyncBN's exact backward would need the other
        // replicas' gradient sums, which DJL's autograd cannot fetch mid-backward)
        NDArray mu = mean.add(gMean.sub(mean).stopGradient());
        NDArray var = localVar.add(gVar.sub(localVar).stopGradient());
        NDArray y = flat.sub(mu).div(Scalars.add(var, eps).sqrt()).mul(weight.array()).add(bias.array());
        long n = localCount * replicas.replicas();
        NDArray rm = runningMean.array();
        NDArray rv = runningVar.array();
        rm.muli(1 - MOMENTUM).addi(gMean.mul(MOMENTUM));
        rv.muli(1 - MOMENTUM).addi(gVar.mul((float) (MOMENTUM * n / (double) Math.max(1, n - 1))));
        return y;
    }
}
