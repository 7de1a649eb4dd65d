package siameseim.datasets.loader;

import siameseim.datasets.testing.LoaderFixture;
import siameseim.host.IdlePriority;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import siameseim.config.PretrainConfig;
import siameseim.datasets.augment.TwoViewAugmenter;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.image.RgbImage;
import siameseim.datasets.image.PackedImages;
import siameseim.batch.SiameseBatch;

class BatchLoaderTest {
    private static final PretrainConfig CFG = LoaderFixture.CFG;
    private static final PackedImages DATA = LoaderFixture.DATA;

    /** Records the ids it serves. */
    static final class Recording implements SampleSource {
        final InMemorySource inner = new InMemorySource(DATA);
        final List<Integer> served = new ArrayList<>();

        @Override
        public int size() {
            return inner.size();
        }

        @Override
        public Feed open(long epoch, long seed, long from, long to) {
            return tapped(inner.open(epoch, seed, from, to), s -> served.add(s.id()));
        }
    }

    /** {@code f}, telling {@code onTake} of every sample it serves. */
    static SampleSource.Feed tapped(SampleSource.Feed f, java.util.function.Consumer<RawSample> onTake) {
        return mapped(f, s -> {
            onTake.accept(s);
            return s;
        });
    }

    /** {@code f} with every sample it serves replaced by {@code map}'s result. */
    static SampleSource.Feed mapped(SampleSource.Feed f, java.util.function.UnaryOperator<RawSample> map) {
        return new SampleSource.Feed() {
            @Override
            public boolean hasNext() {
                return f.hasNext();
            }

            @Override
            public RawSample next() {
                return map.apply(f.next());
            }

            @Override
            public void close() {
                f.close();
            }
        };
    }

    private static BatchLoader<SiameseBatch> loader(SampleSource src, int batch, int accum, int rank, int replicas, long start,
            int threads) {
        return new BatchLoader<>(src, new SiameseAssembler(new TwoViewAugmenter(CFG)), null, batch, accum, rank, replicas, 9, start, threads, 2);
    }

    @Test
    void sameSeedSameBatchesWhateverTheThreads() {
        try (BatchLoader<SiameseBatch> a = loader(new InMemorySource(DATA), 8, 1, 0, 1, 0, 1);
                BatchLoader<SiameseBatch> b = loader(new InMemorySource(DATA), 8, 1, 0, 1, 0, 3)) {
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
    void replicasTakeDisjointEqualPartsOfTheEpoch() {
        Recording r0 = new Recording();
        Recording r1 = new Recording();
        try (BatchLoader<SiameseBatch> a = loader(r0, 8, 1, 0, 2, 0, 1);
                BatchLoader<SiameseBatch> b = loader(r1, 8, 1, 1, 2, 0, 1)) {
            // 40 images, global batch 8: 5 steps per epoch, 20 samples per replica and epoch
            for (int s = 0; s < 5; s++) {
                assertEquals(4, a.next().get(0).size());
                b.next();
            }
        }
        int[] order = EpochOrder.of(new long[] {40}, 9, 0, 40, 1);
        assertEquals(toList(order, 0, 20), r0.served.subList(0, 20));
        assertEquals(toList(order, 20, 40), r1.served.subList(0, 20));
        Set<Integer> all = new HashSet<>(r0.served.subList(0, 20));
        all.addAll(r1.served.subList(0, 20));
        assertEquals(40, all.size());
    }

    private static List<Integer> toList(int[] a, int from, int to) {
        List<Integer> l = new ArrayList<>();
        for (int i = from; i < to; i++) {
            l.add(a[i]);
        }
        return l;
    }

    @Test
    void resumingAtAStepContinuesTheSameSequence() {
        try (BatchLoader<SiameseBatch> full = loader(new InMemorySource(DATA), 8, 2, 0, 1, 0, 1);
                BatchLoader<SiameseBatch> resumed = loader(new InMemorySource(DATA), 8, 2, 0, 1, 7, 1)) {
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
    void windowedOrderKeepsEverySampleOnceAndShufflesWithinWindows() {
        long[] shards = {7, 7, 7, 3};
        int[] o = EpochOrder.of(shards, 1, 0, 5, 1);
        boolean[] seen = new boolean[24];
        for (int i : o) {
            assertTrue(!seen[i]);
            seen[i] = true;
        }
        assertEquals(24, o.length);
        assertTrue(!java.util.Arrays.equals(o, EpochOrder.of(shards, 1, 1, 5, 1)), "another epoch, another order");
    }

    @Test
    void recycledViewArraysServeLaterStepsWithTheSameContents() {
        java.util.Set<float[]> handedBack = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        int reused = 0;
        try (BatchLoader<SiameseBatch> recycling = loader(new InMemorySource(DATA), 8, 1, 0, 1, 0, 2);
                BatchLoader<SiameseBatch> fresh = loader(new InMemorySource(DATA), 8, 1, 0, 1, 0, 2)) {
            for (int step = 0; step < 10; step++) {
                List<SiameseBatch> a = recycling.next();
                SiameseBatch b = fresh.next().get(0);
                SiameseBatch x = a.get(0);
                reused += handedBack.contains(x.view1()) ? 1 : 0;
                assertArrayEquals(b.view1(), x.view1(), "step " + step);
                assertArrayEquals(b.view2(), x.view2(), "step " + step);
                assertArrayEquals(b.visible(), x.visible());
                handedBack.add(x.view1());
                handedBack.add(x.view2());
                recycling.recycle(a);
            }
        }
        assertTrue(reused >= 5, "recycled arrays were taken again: " + reused);
    }

    /** The scheduling policy of the calling thread (field 41 of /proc/thread-self/stat). */
    static int policyOfThisThread() throws java.io.IOException {
        String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/thread-self/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Integer.parseInt(fields[41 - 3]);
    }

    @Test
    void idleWorkersRunUnderSchedIdleAndServeTheSameBatches() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.exists(java.nio.file.Path.of("/proc/thread-self")),
                "needs Linux");
        assertEquals(0, policyOfThisThread(), "this thread is SCHED_OTHER");
        // the policy as seen from inside a worker: an assembler that records it
        java.util.concurrent.atomic.AtomicInteger seen = new java.util.concurrent.atomic.AtomicInteger(-1);
        SiameseAssembler real = new SiameseAssembler(new TwoViewAugmenter(CFG));
        BatchAssembler<SiameseBatch> probe = new BatchAssembler<>() {
            @Override
            public SiameseBatch assemble(siameseim.datasets.image.RgbImage[] images, int[] labels,
                    java.util.SplittableRandom[] sampleRngs, java.util.SplittableRandom batchRng) {
                try {
                    seen.set(policyOfThisThread());
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                return real.assemble(images, labels, sampleRngs, batchRng);
            }
        };
        try (BatchLoader<SiameseBatch> normal = loader(new InMemorySource(DATA), 8, 1, 0, 1, 0, 2);
                BatchLoader<SiameseBatch> idle = new BatchLoader<>(new InMemorySource(DATA), probe, null, 8, 1, 0, 1, 9,
                        0, 2, 2, IdlePriority::enterForCurrentThread, null)) {
            for (int s = 0; s < 6; s++) {
                SiameseBatch x = normal.next().get(0);
                SiameseBatch y = idle.next().get(0);
                assertArrayEquals(x.view1(), y.view1());
                assertArrayEquals(x.visible(), y.visible());
            }
            assertEquals(null, idle.setupRefused());
        }
        assertEquals(5, seen.get(), "workers run under SCHED_IDLE (policy 5)");
        assertEquals(0, policyOfThisThread(), "the caller's own policy is unchanged");
    }

    /**
     * A new epoch's feed is opened by the loader's feeder thread, placed like the workers, so
     * neither the wait for its first shuffle window nor the shard reader it starts (which
     * inherits its creator's priority and CPUs) falls on the training thread.
     */
    @Test
    void feedsAreOpenedOffTheCallerUnderTheWorkerSetup() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.exists(java.nio.file.Path.of("/proc/thread-self")),
                "needs Linux");
        List<String> openedBy = java.util.Collections.synchronizedList(new ArrayList<>());
        List<String> events = java.util.Collections.synchronizedList(new ArrayList<>());
        InMemorySource inner = new InMemorySource(DATA);
        SampleSource probe = new SampleSource() {
            @Override
            public int size() {
                return inner.size();
            }

            @Override
            public Feed open(long epoch, long seed, long from, long to) throws java.io.IOException {
                openedBy.add(Thread.currentThread().getName() + " policy " + policyOfThisThread());
                events.add("open " + epoch);
                return tapped(inner.open(epoch, seed, from, to), x -> events.add("take " + epoch));
            }
        };
        String caller = Thread.currentThread().getName();
        try (BatchLoader<SiameseBatch> l = new BatchLoader<>(probe, new SiameseAssembler(new TwoViewAugmenter(CFG)),
                null, 8, 1, 0, 1, 9, 0, 1, 2, IdlePriority::enterForCurrentThread, null)) {
            for (int s = 0; s < 12; s++) { // 40 images, 5 steps per epoch: three epochs
                l.next();
            }
        }
        assertTrue(openedBy.size() >= 3, "one feed per epoch: " + openedBy);
        for (String who : openedBy) {
            assertEquals("siameseim-feed policy 5", who, "caller " + caller);
        }
        // each later epoch's feed opened before the epoch before it was used up, and only once
        for (int e = 1; e <= 2; e++) {
            assertTrue(events.indexOf("open " + e) < events.lastIndexOf("take " + (e - 1)), "epoch " + e + ": " + events);
            assertEquals(events.indexOf("open " + e), events.lastIndexOf("open " + e));
        }
    }

    @Test
    void aFeedThatCannotOpenFailsTheStepWithItsMessage() {
        SampleSource broken = new SampleSource() {
            @Override
            public int size() {
                return 40;
            }

            @Override
            public Feed open(long epoch, long seed, long from, long to) throws java.io.IOException {
                throw new java.io.IOException("hdfs://nn/data/train/part-00003.parquet: connection refused");
            }
        };
        try (BatchLoader<SiameseBatch> l = loader(broken, 8, 1, 0, 1, 0, 1)) {
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, l::next);
            assertEquals("data loading failed: hdfs://nn/data/train/part-00003.parquet: connection refused",
                    e.getMessage());
            assertTrue(e.getCause() instanceof java.io.IOException, String.valueOf(e.getCause()));
        }
    }

    /** DATA's images as JPEG bytes, as a prepared dataset serves them. */
    static final class Encoded implements SampleSource {
        final InMemorySource inner = new InMemorySource(DATA);
        final java.util.Map<Integer, byte[]> jpegs = new java.util.concurrent.ConcurrentHashMap<>();

        @Override
        public int size() {
            return inner.size();
        }

        @Override
        public Feed open(long epoch, long seed, long from, long to) {
            return mapped(inner.open(epoch, seed, from, to), s -> new RawSample(s.id(), s.label(),
                    jpegs.computeIfAbsent(s.id(), k -> OPENCV.encodeJpeg(s.image(), 90)), null));
        }
    }

    private static final ImageDecoder OPENCV = LoaderFixture.OPENCV;

    @Test
    void decodedCacheServesTheSameBatchesAndDecodesEachImageOnce() {
        DecodedCache cache = new DecodedCache(64L << 20, DATA.size());
        try (BatchLoader<SiameseBatch> plain = new BatchLoader<>(new Encoded(), new SiameseAssembler(
                new TwoViewAugmenter(CFG)), OPENCV, 8, 1, 0, 1, 9, 0, 2, 2);
                BatchLoader<SiameseBatch> cached = new BatchLoader<>(new Encoded(), new SiameseAssembler(
                        new TwoViewAugmenter(CFG)), OPENCV, 8, 1, 0, 1, 9, 0, 2, 2, BatchLoader.WorkerSetup.NONE,
                        cache)) {
            for (int s = 0; s < 15; s++) { // 40 images, 5 steps per epoch: three epochs
                SiameseBatch x = plain.next().get(0);
                SiameseBatch y = cached.next().get(0);
                assertArrayEquals(x.view1(), y.view1(), "step " + s);
                assertArrayEquals(x.view2(), y.view2(), "step " + s);
            }
        }
        assertEquals(40, cache.size());
        assertEquals(40, cache.misses(), "each image decoded once, in the first epoch");
        // the last two epochs (80 images) hit; the loader may already be preparing the next step
        assertTrue(cache.hits() >= 80, "hits " + cache.hits());
        assertTrue(cache.describe().contains("40 images"), cache.describe());
    }

    @Test
    void decodedCacheKeepsWithinItsBudgetAndTurnsOffWhenTheSplitCannotFit() {
        RgbImage img = DATA.image(0); // 40 x 40: 4 800 bytes of pixels, 4 896 with the entry
        DecodedCache small = new DecodedCache(8_000, 2);
        small.put(0, img);
        small.put(1, img);
        assertEquals(1, small.size(), "the second image is over the budget");
        RgbImage back = small.get(0);
        assertArrayEquals(img.data(), back.data());
        assertNotSame(img.data(), back.data());
        assertNull(small.get(1));

        // a split of a million such images needs ~4.7 GB: off after the probe, and empty
        DecodedCache big = new DecodedCache(64L << 20, 1_000_000);
        for (int i = 0; i < DecodedCache.PROBE; i++) {
            big.put(i, img);
        }
        assertTrue(big.isOff(), big.describe());
        assertEquals(0, big.size());
        assertNull(big.get(0));
        assertTrue(big.describe().contains("over the budget of 64 MB"), big.describe());
    }

    @Test
    void greyImagesAreCachedAsOnePlane() {
        RgbImage colour = DATA.image(0);
        float[] plane = java.util.Arrays.copyOf(colour.data(), colour.plane());
        RgbImage neutral = RgbImage.grey(colour.width(), colour.height(), plane).rgb(); // decoded grey: three planes
        // 1 600 bytes of pixels each: both fit where a second colour image did not (above)
        DecodedCache cache = new DecodedCache(8_000, 3);
        cache.put(0, neutral);
        cache.put(1, neutral);
        cache.put(2, colour);
        assertEquals(2, cache.size(), cache.describe());
        RgbImage back = cache.get(1);
        assertTrue(back.isGrey());
        assertArrayEquals(neutral.data(), back.rgb().data());
        assertNull(cache.get(2));
    }
}
