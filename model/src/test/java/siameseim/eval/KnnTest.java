package siameseim.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import siameseim.model.nn.Torch;

class KnnTest {
    static {
        Torch.init();
    }

    @Test
    void separableClustersAreClassifiedAndVotesAreWeighted() {
        // class 0 points along +x, class 1 along +y; queries near each axis
        float[] train = {1, 0.1f, 1, -0.1f, 0.9f, 0, 0.1f, 1, -0.1f, 1, 0, 0.8f};
        int[] labels = {0, 0, 0, 1, 1, 1};
        Knn.Accuracy a = Knn.evaluate(train, labels, new float[] {1, 0.2f, 0.2f, 1}, new int[] {0, 1}, 2, 2, 3, 0.07);
        assertEquals(1.0, a.top1());
        assertEquals(2, a.count());
        // with k = 6 every point votes; the exp(sim / T) weights still pick the right class
        assertEquals(1.0, Knn.evaluate(train, labels, new float[] {1, 0.45f}, new int[] {0}, 2, 2, 6, 0.07).top1());
        // a query nearer class 1's axis: a wrong top-1 that top-5 (both classes) still counts
        Knn.Accuracy wrong = Knn.evaluate(train, labels, new float[] {0.2f, 1}, new int[] {0}, 2, 2, 3, 0.07);
        assertEquals(0.0, wrong.top1());
        assertEquals(1.0, wrong.top5());
    }

    @Test
    void neighboursOfPartsMergeIntoTheNeighboursOfTheWhole() {
        SplittableRandom rnd = new SplittableRandom(4);
        int d = 8;
        int n = 300;
        float[] train = new float[n * d];
        float[] test = new float[50 * d];
        int[] labels = new int[n];
        int[] truth = new int[50];
        for (int i = 0; i < train.length; i++) {
            train[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < test.length; i++) {
            test[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < n; i++) {
            labels[i] = rnd.nextInt(5);
        }
        for (int i = 0; i < truth.length; i++) {
            truth[i] = rnd.nextInt(5);
        }
        Knn.normalise(train, d);
        Knn.normalise(test, d);
        Knn whole = Knn.neighbours(test, d, train, labels, 20);
        Knn parts = Knn.merge(Knn.neighbours(test, d, Arrays.copyOfRange(train, 0, 120 * d), Arrays.copyOfRange(labels,
                0, 120), 20), Knn.neighbours(test, d, Arrays.copyOfRange(train, 120 * d, n * d),
                Arrays.copyOfRange(labels, 120, n), 20));
        assertEquals(whole.accuracy(truth, 5, 0.07), parts.accuracy(truth, 5, 0.07));
        // fewer training rows than k: the empty slots do not vote
        Knn few = Knn.neighbours(test, d, Arrays.copyOfRange(train, 0, 3 * d), Arrays.copyOfRange(labels, 0, 3), 20);
        assertEquals(50, few.accuracy(truth, 5, 0.07).count());
    }

    @Test
    void normaliseGivesUnitRowsAndLeavesZeroRowsZero() {
        float[] x = Knn.normalise(new float[] {3, 4, 0, 0}, 2);
        assertEquals(0.6f, x[0], 1e-7);
        assertEquals(0.8f, x[1], 1e-7);
        assertEquals(0f, x[2]);
    }
}
