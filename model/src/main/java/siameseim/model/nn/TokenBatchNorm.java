package siameseim.model.nn;

import ai.djl.ndarray.NDArray;
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
    /**
     * Running buffers for the fused call of {@link #globalBatchNorm}, which torch updates with the
     * local statistics; their values are never read (the module's buffers get the global ones).
     */
    private final NDArray scratchMean;
    private final NDArray scratchVar;

    public TokenBatchNorm(NDManager m, int channels, float eps) {
        this.channels = channels;
        this.eps = eps;
        Shape s = new Shape(channels);
        weight = param("bn.weight", m.ones(s), Param.Kind.TRAINABLE);
        bias = param("bn.bias", m.zeros(s), Param.Kind.TRAINABLE);
        runningMean = param("bn.running_mean", m.zeros(s), Param.Kind.BUFFER);
        runningVar = param("bn.running_var", m.ones(s), Param.Kind.BUFFER);
        scratchMean = m.zeros(s);
        scratchVar = m.ones(s);
    }

    public void setCrossReplica(CrossReplicaMean replicas) {
        this.replicas = replicas;
    }

    /**
     * In fp32 always: under fp16 autocast the input is widened and autocast is off here, as the
     * official code's BatchNorm ({@code PermuteBN}: {@code autocast(enabled=False)}, {@code x.float()}).
     */
    @Override
    public NDArray forward(NDArray x, boolean training) {
        return Autocast.off(x.getDevice(), () -> forwardFp32(Autocast.toFloat32(x), training));
    }

    private NDArray forwardFp32(NDArray x, boolean training) {
        NDArray flat = x.reshape(-1, channels);
        if (!training || replicas.replicas() == 1) {
            // DJL's momentum is 1 - PyTorch's momentum
            return flat.getNDArrayInternal()
                    .batchNorm(flat, runningMean.array(), runningVar.array(), weight.array(), bias.array(), -1,
                            1f - MOMENTUM, eps, training)
                    .singletonOrThrow()
                    .reshape(x.getShape());
        }
        int rows = Math.toIntExact(flat.getShape().get(0));
        float[][] local = localMoments(flat, rows);
        return globalBatchNorm(flat, rows, local, replicas.moments(local[0], local[1])).reshape(x.getShape());
    }

    /**
     * SyncBN's forward in one fused batch_norm call. The replica's own statistics m, v (taken
     * without autograd) and the global ones M, V (exchanged by the caller) give
     * {@code (x - M) / sqrt(V + eps) = a * (x - m) / sqrt(v + eps) + c} with the constants
     * {@code a = sqrt(v + eps) / sqrt(V + eps)} and {@code c = (m - M) / sqrt(V + eps)}, so the
     * layer is PyTorch's training-mode batch_norm with weight {@code w * a} and bias
     * {@code w * c + b}. The backward is batch_norm's own (through the local statistics), scaled
     * to the global normalisation; SyncBN's exact backward would need the other replicas'
     * gradient sums mid-backward, which DJL's autograd cannot fetch. One fused op instead of
     * eight recorded element-wise ones, about a quarter of their time on a CPU
     * (docs/distributed.md, "Semantics across replicas"). The constants are computed in
     * Java from the exchanged float arrays: a dozen small tensor operations fewer per layer.
     */
    private NDArray globalBatchNorm(NDArray flat, int rows, float[][] local, float[][] global) {
        float[] a = new float[channels];
        float[] c = new float[channels];
        float[] runMean = new float[channels];
        float[] runVar = new float[channels];
        long n = (long) rows * replicas.replicas();
        double unbiased = n / (double) Math.max(1, n - 1);
        for (int k = 0; k < channels; k++) {
            double gStd = Math.sqrt(global[1][k] + (double) eps);
            a[k] = (float) (Math.sqrt(local[1][k] + (double) eps) / gStd);
            c[k] = (float) ((local[0][k] - (double) global[0][k]) / gStd);
            runMean[k] = MOMENTUM * global[0][k];
            runVar[k] = (float) (MOMENTUM * unbiased * global[1][k]);
        }
        NDManager m = flat.getManager();
        Shape s = new Shape(channels);
        NDArray w = weight.array();
        // not closed here: on CPU a created tensor's storage is the Java buffer it was created from
        // (DJL keeps that buffer with the NDArray), and the autograd graph reads them in the backward.
        // The products are taken as scale.mul(w), not w.mul(scale): DJL attaches a result to its
        // receiver's manager, and the weight's is the model's, which would keep them for good
        NDArray scale = m.create(a, s);
        NDArray shift = m.create(c, s);
        NDArray y = flat.getNDArrayInternal()
                .batchNorm(flat, scratchMean, scratchVar, scale.mul(w), shift.mul(w).add(bias.array()), -1,
                        1f - MOMENTUM, eps, true)
                .singletonOrThrow();
        try (NDArray gm = m.create(runMean, s); NDArray gv = m.create(runVar, s)) {
            runningMean.array().muli(1 - MOMENTUM).addi(gm);
            runningVar.array().muli(1 - MOMENTUM).addi(gv);
        }
        return y;
    }

    /**
     * This replica's per-channel mean and biased variance of {@code flat} (rows x channels), no
     * autograd. On CPU two passes over the tensor's own memory ({@link ChannelMoments}); on an
     * accelerator one training-mode batch_norm with momentum 1, which leaves the batch mean and
     * the unbiased variance in its running buffers (its normalised output is dropped).
     */
    private float[][] localMoments(NDArray flat, int rows) {
        if (!flat.getDevice().isGpu()) {
            // a contiguous CPU tensor's buffer aliases its storage; anything else comes as a copy
            return ChannelMoments.of(flat.toByteBuffer(true), rows, channels);
        }
        Shape s = new Shape(channels);
        try (NDManager tmp = flat.getManager().newSubManager(); NDArray x = flat.stopGradient()) {
            NDArray mean = tmp.zeros(s);
            NDArray var = tmp.ones(s);
            x.getNDArrayInternal().batchNorm(x, mean, var, tmp.ones(s), tmp.zeros(s), -1, 0f, eps, true)
                    .singletonOrThrow().close();
            float[] v = var.toFloatArray();
            for (int k = 0; k < channels; k++) {
                v[k] = (float) (v[k] * ((rows - 1) / (double) rows));
            }
            return new float[][] {mean.toFloatArray(), v};
        }
    }
}
