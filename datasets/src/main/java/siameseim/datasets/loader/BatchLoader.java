package siameseim.datasets.loader;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import siameseim.datasets.augment.TwoViewAugmenter;
import siameseim.datasets.decode.BadImageException;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.image.RgbImage;
import siameseim.model.siameseim.SiameseBatch;

/**
 * Feeds one replica. Each epoch has a global order of samples ({@link EpochOrder}); replica r of
 * N takes the r-th of N equal contiguous parts (drop-last to whole global batches), and its
 * optimizer step k of the epoch uses the next accum-steps x local-batch samples of that part.
 * Every sample's augmentation is seeded by (seed, epoch, its global position), so a step's data
 * does not depend on threads or timing. Worker threads decode and augment upcoming steps ahead.
 */
public final class BatchLoader implements AutoCloseable {
    private final SampleSource source;
    private final TwoViewAugmenter augmenter;
    private final ImageDecoder decoder;
    private final long maxPixels;
    private final int localBatch;
    private final int accumSteps;
    private final int rank;
    private final long seed;
    private final long stepsPerEpoch;
    private final int prefetch;
    private final ExecutorService workers;
    private final ArrayDeque<Future<List<SiameseBatch>>> queue = new ArrayDeque<>();
    private long nextToSchedule;
    private SampleSource.Feed feed;
    private long feedEpoch = -1;

    /**
     * @param startStep the optimizer step the next {@link #next()} returns (resume)
     */
    public BatchLoader(SampleSource source, TwoViewAugmenter augmenter, ImageDecoder decoder, int globalBatch,
            int accumSteps, int rank, int replicas, long seed, long startStep, int threads, int prefetch) {
        if (globalBatch % (accumSteps * replicas) != 0) {
            throw new IllegalArgumentException("global batch " + globalBatch + " is not divisible by accum-steps "
                    + accumSteps + " x replicas " + replicas);
        }
        if (source.size() < globalBatch) {
            throw new IllegalArgumentException("the dataset has " + source.size()
                    + " images, fewer than one global batch of " + globalBatch);
        }
        this.source = source;
        this.augmenter = augmenter;
        this.decoder = decoder;
        this.maxPixels = Long.MAX_VALUE;
        this.localBatch = globalBatch / accumSteps / replicas;
        this.accumSteps = accumSteps;
        this.rank = rank;
        this.seed = seed;
        this.stepsPerEpoch = source.size() / globalBatch;
        this.prefetch = Math.max(1, prefetch);
        this.nextToSchedule = startStep;
        this.workers = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
            Thread t = new Thread(r, "siameseim-augment");
            t.setDaemon(true);
            return t;
        });
    }

    /** Optimizer steps per epoch (drop-last). */
    public long stepsPerEpoch() {
        return stepsPerEpoch;
    }

    /** Samples of one replica per optimizer step. */
    public int samplesPerStep() {
        return localBatch * accumSteps;
    }

    /** The micro-batches of this replica for the next optimizer step. */
    public List<SiameseBatch> next() {
        try {
            while (queue.size() < prefetch) {
                schedule(nextToSchedule++);
            }
            return queue.poll().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while loading data", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("data loading failed: " + e.getCause().getMessage(), e.getCause());
        } catch (IOException e) {
            throw new IllegalStateException("data loading failed: " + e.getMessage(), e);
        }
    }

    /** Takes the step's raw samples from the feed (in order) and queues their augmentation. */
    private void schedule(long step) throws IOException {
        long epoch = step / stepsPerEpoch;
        long within = step % stepsPerEpoch;
        long part = stepsPerEpoch * samplesPerStep();
        long partStart = rank * part;
        if (feed == null || feedEpoch != epoch) {
            if (feed != null) {
                feed.close();
            }
            feed = source.open(epoch, seed, partStart + within * samplesPerStep(), partStart + part);
            feedEpoch = epoch;
        }
        RawSample[] raw = new RawSample[samplesPerStep()];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = feed.next();
        }
        long firstPosition = partStart + within * samplesPerStep();
        queue.add(workers.submit(() -> build(raw, epoch, firstPosition)));
    }

    private List<SiameseBatch> build(RawSample[] raw, long epoch, long firstPosition) throws BadImageException {
        List<SiameseBatch> out = new ArrayList<>(accumSteps);
        for (int a = 0; a < accumSteps; a++) {
            out.add(batch(raw, a * localBatch, epoch, firstPosition));
        }
        return out;
    }

    private SiameseBatch batch(RawSample[] raw, int offset, long epoch, long firstPosition) throws BadImageException {
        int size = augmenter.imageSize();
        int lv = augmenter.visibleCount();
        int pixels = 3 * size * size;
        int count = localBatch;
        float[] v1 = new float[count * pixels];
        float[] v2 = new float[count * pixels];
        long[] vis = new long[count * lv];
        float[] geo = new float[count * 6];
        for (int i = 0; i < count; i++) {
            RawSample s = raw[offset + i];
            long position = firstPosition + offset + i;
            SplittableRandom rng = new SplittableRandom(EpochOrder.mix(seed, epoch, position));
            RgbImage img = s.image() != null ? s.image() : decoder.decode(s.encoded(), maxPixels).image();
            TwoViewAugmenter.Sample t = augmenter.apply(img, rng);
            System.arraycopy(t.view1(), 0, v1, i * pixels, pixels);
            System.arraycopy(t.view2(), 0, v2, i * pixels, pixels);
            for (int k = 0; k < lv; k++) {
                vis[i * lv + k] = t.visible()[k];
            }
            t.geometry().writeTo(geo, i * 6);
        }
        return new SiameseBatch(count, size, v1, v2, vis, lv, geo);
    }

    @Override
    public void close() {
        if (feed != null) {
            feed.close();
        }
        workers.shutdownNow();
    }
}
