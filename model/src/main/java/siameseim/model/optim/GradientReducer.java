package siameseim.model.optim;

import java.nio.ByteBuffer;

/**
 * The step between backward and the update that makes gradients global: averages one flat
 * buffer holding every trainable gradient (in {@code SiameseIM.trainableParams()} order) over
 * all replicas, in place. One replica: the identity, and no flat buffer is ever built.
 */
public interface GradientReducer {

    GradientReducer IDENTITY = new GradientReducer() {
        @Override
        public int replicas() {
            return 1;
        }

        @Override
        public void average(ByteBuffer flat) {}
    };

    int replicas();

    /** Replaces {@code flat} (native-order floats, position 0 to limit) with its mean over replicas. */
    void average(ByteBuffer flat);
}
