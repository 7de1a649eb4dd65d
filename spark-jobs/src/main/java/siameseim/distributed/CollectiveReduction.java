package siameseim.distributed;

import ai.djl.ndarray.NDArray;
import java.nio.ByteBuffer;
import siameseim.collective.Collective;
import siameseim.model.nn.CrossReplicaMean;
import siameseim.model.optim.GradientReducer;

/** The model's two reduction interfaces, implemented over a {@link Collective}. */
public final class CollectiveReduction {
    private CollectiveReduction() {}

    /** Gradients: the flat buffer is averaged in place (ring all-reduce). */
    public static GradientReducer gradients(Collective c) {
        return new GradientReducer() {
            @Override
            public int replicas() {
                return c.size();
            }

            @Override
            public void average(ByteBuffer flat) {
                c.allReduceMean(flat);
            }
        };
    }

    /** BatchNorm statistics and the UniGrad correlation matrix: small tensors, averaged. */
    public static CrossReplicaMean statistics(Collective c) {
        return new CrossReplicaMean() {
            @Override
            public int replicas() {
                return c.size();
            }

            @Override
            public NDArray average(NDArray local) {
                float[] mean = c.allReduceMean(local.toFloatArray());
                return local.getManager().create(mean, local.getShape());
            }
        };
    }
}
