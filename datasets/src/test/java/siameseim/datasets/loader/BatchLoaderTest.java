package siameseim.datasets.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import siameseim.config.ConfigLoader;
import siameseim.config.PretrainConfig;
import siameseim.datasets.augment.TwoViewAugmenter;
import siameseim.datasets.image.PackedImages;
import siameseim.datasets.synthetic.SyntheticShapes;
import siameseim.model.siameseim.SiameseBatch;

class BatchLoaderTest {
    private static final PretrainConfig CFG = ConfigLoader.loadPretrain("pretrain-demo.conf", List.of());
    private static final PackedImages DATA = SyntheticShapes.dataset(4, 0, 10, 40, 3);

    private static BatchLoader loader(int batch, int accum, int rank, int replicas, long start, int threads) {
        return new BatchLoader(DATA, new TwoViewAugmenter(CFG), batch, accum, rank, replicas, 9, start, threads, 2);
    }

    @Test
    void sameSeedSameBatchesWhateverTheThreads() {
        try (BatchLoader a = loader(8, 1, 0, 1, 0, 1);
                BatchLoader b = loader(8, 1, 0, 1, 0, 3)) {
            for (int s = 0; s < 7; s++) {
                SiameseBatch x = a.next().get(0);
                SiameseBatch y = b.next().get(0);
                assertArrayEquals(x.view1(), y.view1());
                assertArrayEquals(x.geometry(), y.geometry());
                assertArrayEquals(x.visible(), y.visible());
            }
        }
    }

    @Test
    void replicasSplitTheGlobalBatchIntoContiguousShares() {
        try (BatchLoader one = loader(8, 1, 0, 1, 0, 1);
                BatchLoader r0 = loader(8, 1, 0, 2, 0, 1);
                BatchLoader r1 = loader(8, 1, 1, 2, 0, 1)) {
            for (int s = 0; s < 6; s++) {
                SiameseBatch all = one.next().get(0);
                SiameseBatch a = r0.next().get(0);
                SiameseBatch b = r1.next().get(0);
                assertEquals(4, a.size());
                int half = a.view1().length;
                assertArrayEquals(java.util.Arrays.copyOfRange(all.view2(), 0, half), a.view2());
                assertArrayEquals(java.util.Arrays.copyOfRange(all.view2(), half, 2 * half), b.view2());
            }
        }
    }

    @Test
    void resumingAtAStepContinuesTheSameSequence() {
        try (BatchLoader full = loader(8, 2, 0, 1, 0, 1);
                BatchLoader resumed = loader(8, 2, 0, 1, 7, 1)) {
            for (int s = 0; s < 7; s++) {
                full.next();
            }
            for (int s = 7; s < 12; s++) {
                List<SiameseBatch> x = full.next();
                List<SiameseBatch> y = resumed.next();
                assertEquals(2, x.size());
                assertArrayEquals(x.get(1).view1(), y.get(1).view1());
            }
        }
    }

    @Test
    void everySampleOnceAnEpoch() {
        int[] p = BatchLoader.permutation(1000, 5);
        boolean[] seen = new boolean[1000];
        for (int i : p) {
            seen[i] = true;
        }
        for (boolean s : seen) {
            assertEquals(true, s);
        }
    }
}
