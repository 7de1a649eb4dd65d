package siameseim.distributed;

import ai.djl.ndarray.NDArray;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
    public static Statistics statistics(Collective c) {
        return new Statistics(c);
    }

    /**
     * The statistics exchanges, timed: the time a replica spends in them is mostly waiting for
     * the slowest replica to reach the same layer, which is what the step's metrics report as
     * {@code sync_ms}. Small deferred means ({@link #averageLater}) ride along with the next
     * BatchNorm exchange.
     */
    public static final class Statistics implements CrossReplicaMean {
        private final Collective c;
        private final List<Pending> pending = new ArrayList<>();
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

        /**
         * Deferred up to {@link Collective#SMALL_BYTES} (what the direct all-reduce would send
         * to every rank anyway); a larger matrix is reduced on its own when it is needed.
         */
        @Override
        public Deferred averageLater(NDArray local) {
            Pending p = new Pending(local);
            if ((long) p.values.length * Float.BYTES <= Collective.SMALL_BYTES) {
                pending.add(p);
            }
            return p;
        }

        @Override
        public float[][] moments(float[] localMean, float[] localVar) {
            int ch = localMean.length;
            int extra = 0;
            for (Pending p : pending) {
                extra += p.values.length;
            }
            float[] payload = Arrays.copyOf(localMean, 2 * ch + extra);
            System.arraycopy(localVar, 0, payload, ch, ch);
            int at = 2 * ch;
            for (Pending p : pending) {
                System.arraycopy(p.values, 0, payload, at, p.values.length);
                at += p.values.length;
            }
            long t0 = System.nanoTime();
            float[][] all = c.allGather(payload);
            nanos += System.nanoTime() - t0;
            at = 2 * ch;
            for (Pending p : pending) {
                p.resolve(all, at);
                at += p.values.length;
            }
            pending.clear();
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

        /** A deferred mean: its local values until an exchange has carried them. */
        private final class Pending implements Deferred {
            private final NDArray local;
            private final float[] values;
            private NDArray mean;

            Pending(NDArray local) {
                this.local = local;
                this.values = local.toFloatArray();
            }

            /**
             * The mean from every rank's copy at {@code all[r][at ...]}: summed in rank order,
             * then scaled, as {@link Collective#allReduceMean} does, so the bits do not depend
             * on which exchange carried the values.
             */
            void resolve(float[][] all, int at) {
                float[] sum = Collective.sumInRankOrder(all, at, values.length);
                float inv = 1f / all.length;
                for (int i = 0; i < sum.length; i++) {
                    sum[i] *= inv;
                }
                mean = local.getManager().create(sum, local.getShape());
            }

            @Override
            public NDArray get() {
                if (mean == null) {
                    // no exchange has come since: this one goes on its own (every rank gets here alike)
                    pending.remove(this);
                    mean = local.getManager().create(mean(values), local.getShape());
                }
                return mean;
            }
        }
    }
}
