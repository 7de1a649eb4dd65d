package siameseim.eval;

/**
 * Weighted k-nearest-neighbour classification on cosine similarity (DINO's protocol): the k
 * most similar training features vote for their class with weight exp(similarity / T).
 */
public final class Knn {
    private final float[] train;
    private final int[] trainLabels;
    private final int dim;
    private final int classes;

    /** @param train n x dim features, row-major (normalised here) */
    public Knn(float[] train, int[] labels, int dim, int classes) {
        this.train = normalise(train.clone(), dim);
        this.trainLabels = labels.clone();
        this.dim = dim;
        this.classes = classes;
    }

    /** Top-1 and top-5 accuracy. */
    public record Accuracy(double top1, double top5, int count) {}

    public Accuracy evaluate(float[] test, int[] labels, int k, double temperature) {
        float[] q = normalise(test.clone(), dim);
        int n = trainLabels.length;
        int m = labels.length;
        int kk = Math.min(k, n);
        int correct1 = 0;
        int correct5 = 0;
        double[] sims = new double[n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                int qi = i * dim;
                int tj = j * dim;
                for (int d = 0; d < dim; d++) {
                    s += q[qi + d] * train[tj + d];
                }
                sims[j] = s;
            }
            int[] top = topK(sims, kk);
            double[] votes = new double[classes];
            for (int t : top) {
                votes[trainLabels[t]] += Math.exp(sims[t] / temperature);
            }
            int[] ranked = topK(votes, Math.min(5, classes));
            if (ranked[0] == labels[i]) {
                correct1++;
            }
            for (int r : ranked) {
                if (r == labels[i]) {
                    correct5++;
                    break;
                }
            }
        }
        return new Accuracy(correct1 / (double) m, correct5 / (double) m, m);
    }

    /** Indices of the k largest values, largest first (ties: lower index first). */
    static int[] topK(double[] v, int k) {
        int[] idx = new int[k];
        double[] val = new double[k];
        int filled = 0;
        for (int i = 0; i < v.length; i++) {
            if (filled < k || v[i] > val[filled - 1]) {
                int pos = Math.min(filled, k - 1);
                while (pos > 0 && val[pos - 1] < v[i]) {
                    if (pos < k) {
                        val[pos] = val[pos - 1];
                        idx[pos] = idx[pos - 1];
                    }
                    pos--;
                }
                val[pos] = v[i];
                idx[pos] = i;
                filled = Math.min(filled + 1, k);
            }
        }
        return idx;
    }

    static float[] normalise(float[] x, int dim) {
        for (int r = 0; r < x.length / dim; r++) {
            double s = 0;
            for (int d = 0; d < dim; d++) {
                s += x[r * dim + d] * x[r * dim + d];
            }
            double inv = 1 / Math.max(Math.sqrt(s), 1e-12);
            for (int d = 0; d < dim; d++) {
                x[r * dim + d] = (float) (x[r * dim + d] * inv);
            }
        }
        return x;
    }
}
