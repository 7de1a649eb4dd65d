package siameseim.evaluate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

/**
 * The k most similar training features of every test feature, as (similarity, label) lists.
 * Partitions of the training set each compute theirs (a matrix product per block of test rows
 * on the engine); lists are merged pairwise, so a kNN evaluation needs only the test features in
 * memory, never the training set.
 */
public final class Neighbours implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final int TEST_BLOCK = 1024;
    private final int queries;
    private final int k;
    private final float[] sims;
    private final int[] labels;

    private Neighbours(int queries, int k) {
        this.queries = queries;
        this.k = k;
        this.sims = new float[queries * k];
        this.labels = new int[queries * k];
        Arrays.fill(sims, Float.NEGATIVE_INFINITY);
        Arrays.fill(labels, -1);
    }

    /** L2-normalises each row of an n x d matrix in place (cosine similarity becomes a dot product). */
    public static float[] normalise(float[] x, int d) {
        for (int r = 0; r < x.length / d; r++) {
            double s = 0;
            for (int j = 0; j < d; j++) {
                s += (double) x[r * d + j] * x[r * d + j];
            }
            float inv = (float) (1 / Math.max(Math.sqrt(s), 1e-12));
            for (int j = 0; j < d; j++) {
                x[r * d + j] *= inv;
            }
        }
        return x;
    }

    /** The neighbours among {@code train} of every row of {@code test} (both normalised, row-major). */
    public static Neighbours of(float[] test, int d, List<FeatureRow> train, int k) {
        int q = test.length / d;
        Neighbours out = new Neighbours(q, k);
        int n = train.size();
        if (n == 0) {
            return out;
        }
        float[] tr = new float[n * d];
        int[] trLabels = new int[n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(train.get(i).feature(), 0, tr, i * d, d);
            trLabels[i] = train.get(i).label();
        }
        normalise(tr, d);
        int kk = Math.min(k, n);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray trainT = m.create(tr, new Shape(n, d)).transpose();
            for (int from = 0; from < q; from += TEST_BLOCK) {
                int rows = Math.min(TEST_BLOCK, q - from);
                try (NDManager block = m.newSubManager()) {
                    NDArray t = block.create(Arrays.copyOfRange(test, from * d, (from + rows) * d), new Shape(rows, d));
                    NDList top = t.matMul(trainT).topK(kk, 1, true, true);
                    float[] v = top.get(0).toFloatArray();
                    long[] idx = top.get(1).toLongArray();
                    for (int r = 0; r < rows; r++) {
                        for (int j = 0; j < kk; j++) {
                            out.sims[(from + r) * k + j] = v[r * kk + j];
                            out.labels[(from + r) * k + j] = trLabels[(int) idx[r * kk + j]];
                        }
                    }
                }
            }
        }
        return out;
    }

    /** The k best of both lists for every query. */
    public static Neighbours merge(Neighbours a, Neighbours b) {
        Neighbours out = new Neighbours(a.queries, a.k);
        for (int q = 0; q < a.queries; q++) {
            int i = 0;
            int j = 0;
            int base = q * a.k;
            for (int o = 0; o < a.k; o++) {
                boolean takeA = j >= a.k || (i < a.k && a.sims[base + i] >= b.sims[base + j]);
                if (takeA) {
                    out.sims[base + o] = a.sims[base + i];
                    out.labels[base + o] = a.labels[base + i++];
                } else {
                    out.sims[base + o] = b.sims[base + j];
                    out.labels[base + o] = b.labels[base + j++];
                }
            }
        }
        return out;
    }

    /** Top-1 and top-5 accuracy of temperature-weighted votes, exp(similarity / T) (DINO). */
    public double[] accuracy(int[] truth, int classes, double temperature) {
        int c1 = 0;
        int c5 = 0;
        for (int q = 0; q < queries; q++) {
            double[] votes = new double[classes];
            for (int j = 0; j < k; j++) {
                int l = labels[q * k + j];
                if (l >= 0) {
                    votes[l] += Math.exp(sims[q * k + j] / temperature);
                }
            }
            Integer[] order = new Integer[classes];
            for (int c = 0; c < classes; c++) {
                order[c] = c;
            }
            Arrays.sort(order, (x, y) -> Double.compare(votes[y], votes[x]));
            if (order[0] == truth[q]) {
                c1++;
            }
            for (int r = 0; r < Math.min(5, classes); r++) {
                if (order[r] == truth[q]) {
                    c5++;
                    break;
                }
            }
        }
        return new double[] {c1 / (double) queries, c5 / (double) queries};
    }
}
