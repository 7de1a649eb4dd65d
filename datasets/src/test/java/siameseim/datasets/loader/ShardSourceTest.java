package siameseim.datasets.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.datasets.testing.LoaderFixture;
import siameseim.config.PretrainConfig;
import siameseim.datasets.augment.TwoViewAugmenter;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.image.PackedImages;
import siameseim.datasets.shards.ImageRecord;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.ShardWriter;
import siameseim.batch.SiameseBatch;

class ShardSourceTest {
    private static final PretrainConfig CFG = LoaderFixture.CFG;
    private static final PackedImages DATA = LoaderFixture.DATA;
    private static final ImageDecoder OPENCV = LoaderFixture.OPENCV;
    private final Configuration conf = new Configuration();

    /** DATA as a prepared dataset's train split under {@code root}, in shards of a few images. */
    private ShardSource written(Path root) throws Exception {
        ShardWriter w = new ShardWriter(conf, root, "train", "part-00000", 12_000);
        long[] perClass = new long[4];
        for (int i = 0; i < DATA.size(); i++) {
            w.write(new ImageRecord("img" + i + ".jpg", DATA.label(i), "c" + DATA.label(i),
                    OPENCV.encodeJpeg(DATA.image(i), 90), 40, 40, "jpeg"));
            perClass[DATA.label(i)]++;
        }
        w.close();
        assertTrue(w.shards().size() > 2, "several shards: " + w.shards().size());
        Manifest m = new Manifest("synthetic", List.of("c0", "c1", "c2", "c3"),
                Map.of("train", new Manifest.Split(DATA.size(), perClass, w.shards())),
                new Manifest.RowOrder(Manifest.RowOrder.SORTED, 0), List.of(), new JsonObject());
        return new ShardSource(conf, root, m, "train", null, 16, 1, 1);
    }

    private static List<RawSample> drain(SampleSource src, long epoch, IntPredicate held) throws Exception {
        List<RawSample> out = new ArrayList<>();
        try (SampleSource.Feed f = src.open(epoch, 5, 0, src.size(), held)) {
            while (f.hasNext()) {
                out.add(f.next());
            }
        }
        return out;
    }

    @Test
    void samplesTheCallerHoldsComeWithTheirLabelsWithoutReadingTheShards(@TempDir java.nio.file.Path tmp)
            throws Exception {
        Path root = new Path(tmp.toUri());
        ShardSource src = written(root);
        int n = DATA.size();
        for (RawSample s : drain(src, 0, id -> true)) { // never read before: read whatever the caller holds
            assertNotNull(s.encoded(), "sample " + s.id());
            assertEquals(DATA.label(s.id()), s.label());
        }
        assertEquals(n, src.samplesRead());

        FileSystem.get(root.toUri(), conf).delete(new Path(root, "train"), true);
        List<RawSample> held = drain(src, 1, id -> true);
        assertEquals(n, held.size());
        for (RawSample s : held) {
            assertNull(s.encoded(), "sample " + s.id());
            assertEquals(DATA.label(s.id()), s.label(), "sample " + s.id());
        }
        assertEquals(n, src.samplesRead(), "nothing read for held samples");

        // one sample not held needs its (deleted) shard
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> drain(src, 2, id -> id != 7));
        assertTrue(e.getMessage().contains("reading " + root), e.getMessage());
    }

    @Test
    void withTheDecodedCacheLaterEpochsReadNothingAndServeTheSameBatches(@TempDir java.nio.file.Path tmp)
            throws Exception {
        ShardSource plainSrc = written(new Path(tmp.resolve("a").toUri()));
        Path cachedRoot = new Path(tmp.resolve("b").toUri());
        ShardSource cachedSrc = written(cachedRoot);
        DecodedCache cache = new DecodedCache(64L << 20, DATA.size());
        int n = DATA.size();
        try (BatchLoader<SiameseBatch> plain = new BatchLoader<>(plainSrc, new SiameseAssembler(
                new TwoViewAugmenter(CFG)), OPENCV, 8, 1, 0, 1, 9, 0, 2, 2);
                BatchLoader<SiameseBatch> cached = new BatchLoader<>(cachedSrc, new SiameseAssembler(
                        new TwoViewAugmenter(CFG)), OPENCV, 8, 1, 0, 1, 9, 0, 2, 2, BatchLoader.WorkerSetup.NONE,
                        cache)) {
            for (int s = 0; s < 30; s++) { // 40 images, 5 steps per epoch: six epochs
                if (s == 20) {
                    // every image is decoded since the first epoch ended: the shards are no longer read
                    assertTrue(cachedSrc.samplesRead() <= 2L * n, "read " + cachedSrc.samplesRead());
                    FileSystem.get(cachedRoot.toUri(), conf).delete(new Path(cachedRoot, "train"), true);
                }
                SiameseBatch x = plain.next().get(0);
                SiameseBatch y = cached.next().get(0);
                assertArrayEquals(x.view1(), y.view1(), "step " + s);
                assertArrayEquals(x.view2(), y.view2(), "step " + s);
            }
        }
        assertTrue(plainSrc.samplesRead() >= 6L * n, "read " + plainSrc.samplesRead());
        // each image decoded once, except that a sample of the last batch of one epoch and of a
        // first batch of the next (read before the first was cached) may be decoded by both
        // workers at the same time: at most one batch (8) twice
        assertTrue(cache.misses() >= n && cache.misses() <= n + 8, "decoded " + cache.misses() + " times");
    }
}
