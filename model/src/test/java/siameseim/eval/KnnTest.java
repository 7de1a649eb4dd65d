package siameseim.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class KnnTest {
    @Test
    void topKOrdersLargestFirst() {
        assertArrayEquals(new int[] {3, 1, 4}, Knn.topK(new double[] {0.1, 0.8, -1, 0.9, 0.5, 0.2}, 3));
        assertArrayEquals(new int[] {0}, Knn.topK(new double[] {2, 1}, 1));
    }

    @Test
    void separableClustersAreClassifiedAndVotesAreWeighted() {
        // class 0 points along +x, class 1 along +y; queries near each axis
        float[] train = {1, 0.1f, 1, -0.1f, 0.9f, 0, 0.1f, 1, -0.1f, 1, 0, 0.8f};
        int[] labels = {0, 0, 0, 1, 1, 1};
        Knn knn = new Knn(train, labels, 2, 2);
        Knn.Accuracy a = knn.evaluate(new float[] {1, 0.2f, 0.2f, 1}, new int[] {0, 1}, 3, 0.07);
        assertEquals(1.0, a.top1());
        // with k = 6 every point votes; the exp(sim / T) weights still pick the right class
        assertEquals(1.0, knn.evaluate(new float[] {1, 0.45f}, new int[] {0}, 6, 0.07).top1());
    }
}
