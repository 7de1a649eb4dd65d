package siameseim.model.nn;

import ai.djl.ndarray.NDArray;

/**
 * The two places of SiameseIM whose value depends on the whole global batch go through this:
 * the per-token BatchNorm statistics of the projector and predictor (the reference's SyncBN)
 * and the UniGrad target correlation matrix (spec 3). One replica: the identity.
 */
public interface CrossReplicaMean {

    /** One replica: nothing to reduce. */
    CrossReplicaMean SINGLE = new CrossReplicaMean() {
        @Override
        public int replicas() {
            return 1;
        }

        @Override
        public NDArray average(NDArray local) {
            return local;
        }

        @Override
        public float[][] moments(float[] localMean, float[] localVar) {
            return new float[][] {localMean, localVar};
        }
    };

    int replicas();

    /**
     * The element-wise mean of {@code local} over all replicas (each replica passes the same
     * shape). The result is a constant for autograd; it lives in {@code local}'s manager.
     */
    NDArray average(NDArray local);

    /**
     * Global per-channel mean and (biased) variance from every replica's local mean and variance
     * over equal-sized local batches: mean = avg(mean_r), var = avg(var_r + (mean_r - mean)^2)
     * (one exchange instead of two, and no E[x^2] - E[x]^2 cancellation).
     *
     * @return {mean, var}
     */
    float[][] moments(float[] localMean, float[] localVar);
}
