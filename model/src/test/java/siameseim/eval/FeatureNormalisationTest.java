package siameseim.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

/** The two normalisations of features: unit length, and centred then unit length (spec 5.4). */
class FeatureNormalisationTest {
    @Test
    void unitLengthScalesAndKeepsZero() {
        assertArrayEquals(new float[] {0.6f, 0.8f}, FeatureExtractor.unitLength(new float[] {3, 4}), 1e-7f);
        assertArrayEquals(new float[] {0, 0}, FeatureExtractor.unitLength(new float[] {0, 0}));
    }

    @Test
    void centredUnitLengthSubtractsTheVectorsOwnMeanFirst() {
        double r = 1 / Math.sqrt(2);
        assertArrayEquals(new double[] {-r, 0, r}, FeatureExtractor.centredUnitLength(new float[] {1, 2, 3}), 1e-15);
        assertArrayEquals(new double[] {-r, 0, r}, FeatureExtractor.centredUnitLength(new float[] {11, 12, 13}), 1e-15);
        assertArrayEquals(new double[] {0, 0, 0}, FeatureExtractor.centredUnitLength(new float[] {5, 5, 5}),
                "a constant vector becomes zero");
    }
}
