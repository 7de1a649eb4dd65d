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

            @Override
            public NDArray[] moments(NDArray localMean, NDArray localVar) {
                float[] mine = localMean.toFloatArray();
                int ch = mine.length;
                float[] both = java.util.Arrays.copyOf(mine, 2 * ch);
                System.arraycopy(localVar.toFloatArray(), 0, both, ch, ch);
                float[][] all = c.allGather(both);
                float[] mean = new float[ch];
                float[] var = new float[ch];
                int r = all.length;
                for (int k = 0; k < ch; k++) {
                    double m = 0;
                    for (float[] a : all) {
                        m += a[k];
                    }
                    m /= r;
                    double v = 0;
                    for (float[] a : all) {
                        double d = a[k] - m;
                        v += a[ch + k] + d * d;
                    }
                    mean[k] = (float) m;
                    var[k] = (float) (v / r);
                }
                return new NDArray[] {localMean.getManager().create(mean, localMean.getShape()),
                    localMean.getManager().create(var, localVar.getShape())};
            }
        };
    }
}
