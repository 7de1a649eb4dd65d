package siameseim.testing;

import ai.djl.ndarray.NDArray;
import java.nio.ByteBuffer;
import siameseim.model.nn.CrossReplicaMean;
import siameseim.model.optim.GradientReducer;

/**
 * Stand-ins for two replicas whose statistics and gradients happen to equal this one's: the
 * cross-replica code paths run, without any communication, and must give one replica's result.
 */
public final class TwinReplicas {
    private TwinReplicas() {}

    /** BatchNorm statistics and the correlation matrix: the global values are the local ones. */
    public static final CrossReplicaMean STATISTICS = new CrossReplicaMean() {
        @Override
        public int replicas() {
            return 2;
        }

        @Override
        public NDArray average(NDArray local) {
            return local;
        }

        @Override
        public float[][] moments(float[] localMean, float[] localVar) {
            return new float[][] {localMean.clone(), localVar.clone()};
        }
    };

    /** Gradients: the average of two equal buffers is the buffer. */
    public static final GradientReducer GRADIENTS = new GradientReducer() {
        @Override
        public int replicas() {
            return 2;
        }

        @Override
        public void average(ByteBuffer flat) {}
    };
}
