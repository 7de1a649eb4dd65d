package siameseim.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import java.util.SplittableRandom;

/** fc1 -> exact (erf) GELU -> fc2. */
public final class Mlp extends Module {
    private final Linear fc1;
    private final Linear fc2;

    public Mlp(NDManager m, SplittableRandom rng, int dim, int hidden) {
        fc1 = child("fc1", new Linear(m, rng, dim, hidden));
        fc2 = child("fc2", new Linear(m, rng, hidden, dim));
    }

    public NDArray forward(NDArray x) {
        return fc2.forward(Activation.gelu(fc1.forward(x)));
    }
}
