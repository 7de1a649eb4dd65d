package siameseim.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Records the autograd graph on this thread until closed, like DJL's GradientCollector, but
 * without its process-wide "only one collector" flag: libtorch's grad mode is per thread and
 * independent graphs may run backward concurrently, so two replicas in one JVM (Spark local
 * mode) can train at the same time. Gradients accumulate into the leaves' .grad as in PyTorch.
 */
public final class Autograd implements AutoCloseable {

    private Autograd() {
        JniUtils.setGradMode(true);
    }

    /** Starts recording on this thread. */
    public static Autograd record() {
        return new Autograd();
    }

    /** d(loss)/d(leaf) for every leaf that requires a gradient, added to its .grad. */
    public void backward(NDArray loss) {
        try (NDArray ones = loss.onesLike()) {
            JniUtils.backward((PtNDArray) loss, (PtNDArray) ones, false, false);
        }
    }

    @Override
    public void close() {
        JniUtils.setGradMode(false);
    }
}
