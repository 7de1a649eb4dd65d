package siameseim.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import siameseim.datasets.shards.ShardInfo;

/** eval.train-limit: an exact-size, seeded, uniform sample over class-ordered shards. */
class TrainSampleTest {

    /** 10 classes of 600 rows in class order over 12 shards of 500 rows. */
    static List<ShardInfo> shards() {
        List<ShardInfo> out = new ArrayList<>();
        for (int s = 0; s < 12; s++) {
            out.add(new ShardInfo("train/part-" + s + ".parquet", 500, 0, null));
        }
        return out;
    }

    static int[] perClass(FeatureExtraction.RowFilter f) {
        int[] n = new int[10];
        for (int s = 0; s < 12; s++) {
            for (long r = 0; r < 500; r++) {
                if (f.keep(s, r)) {
                    n[(int) ((s * 500 + r) / 600)]++;
                }
            }
        }
        return n;
    }

    @Test
    void exactSizeEveryClassAndSeeded() {
        int[] a = perClass(FeatureExtraction.sample(shards(), 2000, 0));
        assertEquals(2000, java.util.Arrays.stream(a).sum());
        for (int c = 0; c < 10; c++) {
            assertTrue(a[c] > 140 && a[c] < 260, "class " + c + ": " + a[c] + " of an expected 200");
        }
        assertEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(perClass(FeatureExtraction.sample(shards(),
                2000, 0))), "same seed, same sample");
        assertTrue(!java.util.Arrays.equals(a, perClass(FeatureExtraction.sample(shards(), 2000, 1))), "other seed");
        assertEquals(6000, java.util.Arrays.stream(perClass(FeatureExtraction.sample(shards(), 9000, 0))).sum(),
                "a limit above the split keeps everything");
    }
}
