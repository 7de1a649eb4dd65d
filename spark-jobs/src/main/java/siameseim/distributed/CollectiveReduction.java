package siameseim.distributed;

import ai.djl.ndarray.NDArray;
import java.nio.ByteBuffer;
import java.util.Arrays;
import siameseim.collective.Collective;
import siameseim.model.nn.CrossReplicaMean;
import siameseim.model.optim.GradientReducer;

/** The model's two reduction interfaces, implemented over a {@link Collective}. */
public final class CollectiveReduction {
    private CollectiveReduction() {}

    /** Gradients: the flat buffer is averaged in place (the collective's all-reduce: shared memory on one host, else the ring). */
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
    public static Statistics statistics(Collective c) {
        return new Statistics(c);
    }

    /**
     * The statistics exchanges, timed: the time a replica spends in them is mostly waiting for
     * the slowest replica to reach the same layer, which is what the step's metrics report as
     * {@code sync_ms}.
     */
    public static final class Statistics implements CrossReplicaMean {
        private final Collective c;
        private long nanos;

        Statistics(Collective c) {
            this.c = c;
        }

        /** Milliseconds spent in exchanges since the last call. */
        public double takeMs() {
            double ms = nanos / 1e6;
            nanos = 0;
            return ms;
        }

        @Override
        public int replicas() {
            return c.size();
        }

        @Override
        public NDArray average(NDArray local) {
            return local.getManager().create(mean(local.toFloatArray()), local.getShape());
        }

        private float[] mean(float[] values) {
            long t0 = System.nanoTime();
            float[] mean = c.allReduceMean(values);
            nanos += System.nanoTime() - t0;
            return mean;
        }

        @Override
        public float[][] moments(float[] localMean, float[] localVar) {
            int ch = localMean.length;
            float[] payload = Arrays.copyOf(localMean, 2 * ch);
            System.arraycopy(localVar, 0, payload, ch, ch);
            long t0 = System.nanoTime();
            float[][] all = c.allGather(payload);
            nanos += System.nanoTime() - t0;
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
            return new float[][] {mean, var};
        }
    }
}
