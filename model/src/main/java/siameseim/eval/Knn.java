package siameseim.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.Serializable;
import java.util.Arrays;

/**
 * The one kNN classifier (DINO's protocol, spec section 5.1), used by the demo, the periodic
 * monitor during pretraining and the {@code knn} job: features are L2-normalised, so cosine
 * similarity is a dot product; each query's k most similar training features (a matrix product
 * per block of queries on the engine, then top-k) vote for their class with weight
 * exp(similarity / T). The neighbour lists of parts of the training set merge exactly
 * ({@link #merge}), so the {@code knn} job keeps only the queries in memory, never the training
 * set.
 */
public final class Knn implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final int QUERY_BLOCK = 1024;
    private final int queries;
    private final int k;
    /** Per query, the k best similarities, best first, and their training labels (-1: none). */
    private final float[] sims;
    private final int[] labels;

    private Knn(int queries, int k) {
        this.queries = queries;
        this.k = k;
        this.sims = new float[queries * k];
        this.labels = new int[queries * k];
        Arrays.fill(sims, Float.NEGATIVE_INFINITY);
        Arrays.fill(labels, -1);
    }

    /** Top-1 and top-5 accuracy over {@code count} queries. */
    public record Accuracy(double top1, double top5, int count) {}

    /** Accuracy of {@code test} against {@code train} (n x dim row-major features; neither is changed). */
    public static Accuracy evaluate(float[] train, int[] trainLabels, float[] test, int[] testLabels, int dim,
            int classes, int k, double temperature) {
        return neighbours(normalise(test.clone(), dim), dim, normalise(train.clone(), dim), trainLabels, k)
                .accuracy(testLabels, classes, temperature);
    }

    /** L2-normalises each row of an n x d matrix in place (in double precision) and returns it. */
    public static float[] normalise(float[] x, int d) {
        for (int r = 0; r < x.length / d; r++) {
            double s = 0;
            for (int j = 0; j < d; j++) {
                s += (double) x[r * d + j] * x[r * d + j];
            }
            double inv = 1 / Math.max(Math.sqrt(s), 1e-12);
            for (int j = 0; j < d; j++) {
                x[r * d + j] = (float) (x[r * d + j] * inv);
            }
        }
        return x;
    }

    /**
     * The k most similar rows of {@code train} for every row of {@code queries}, both normalised
     * (row-major, d columns).
     */
    public static Knn neighbours(float[] queries, int d, float[] train, int[] trainLabels, int k) {
        int q = queries.length / d;
        Knn out = new Knn(q, k);
        int n = trainLabels.length;
        if (n == 0 || q == 0) {
            return out;
        }
        int kk = Math.min(k, n);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray trainT = m.create(train, new Shape(n, d)).transpose();
            for (int from = 0; from < q; from += QUERY_BLOCK) {
                int rows = Math.min(QUERY_BLOCK, q - from);
                try (NDManager block = m.newSubManager()) {
                    NDArray t = block.create(Arrays.copyOfRange(queries, from * d, (from + rows) * d),
                            new Shape(rows, d));
                    NDList top = t.matMul(trainT).topK(kk, 1, true, true);
                    float[] v = top.get(0).toFloatArray();
                    long[] idx = top.get(1).toLongArray();
                    for (int r = 0; r < rows; r++) {
                        for (int j = 0; j < kk; j++) {
                            out.sims[(from + r) * k + j] = v[r * kk + j];
                            out.labels[(from + r) * k + j] = trainLabels[(int) idx[r * kk + j]];
                        }
                    }
                }
            }
        }
        return out;
    }

    /** The k best of both lists for every query: the neighbours among both parts of the training set. */
    public static Knn merge(Knn a, Knn b) {
        Knn out = new Knn(a.queries, a.k);
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

    /** Top-1 and top-5 accuracy of the temperature-weighted votes (ties: the lower class first). */
    public Accuracy accuracy(int[] truth, int classes, double temperature) {
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
        return new Accuracy(c1 / (double) queries, c5 / (double) queries, queries);
    }
}
