package siameseim.datasets.loader;

import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import siameseim.datasets.augment.TwoViewAugmenter;
import siameseim.datasets.image.ImageSource;
import siameseim.model.siameseim.SiameseBatch;

/**
 * Feeds one replica: each epoch a global order of all samples is drawn from (seed, epoch);
 * optimizer step k of the epoch covers positions [k G, (k + 1) G) of it (G = global batch,
 * drop-last), and replica r of N takes its contiguous share of each micro-batch. Every sample's
 * augmentation is seeded by (seed, epoch, position), so the data a step sees does not depend on
 * the number of replicas or threads. Worker threads build upcoming steps ahead (prefetch).
 */
public final class BatchLoader implements AutoCloseable {
    private final ImageSource source;
    private final TwoViewAugmenter augmenter;
    private final int globalBatch;
    private final int accumSteps;
    private final int rank;
    private final int replicas;
    private final long seed;
    private final long stepsPerEpoch;
    private final int prefetch;
    private final ExecutorService workers;
    private final ArrayDeque<Future<List<SiameseBatch>>> queue = new ArrayDeque<>();
    private long nextToSchedule;
    private int[] order;
    private long orderEpoch = -1;

    /**
     * @param startStep the optimizer step the next {@link #next()} returns (resume)
     */
    public BatchLoader(ImageSource source, TwoViewAugmenter augmenter, int globalBatch, int accumSteps, int rank,
            int replicas, long seed, long startStep, int threads, int prefetch) {
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
        this.globalBatch = globalBatch;
        this.accumSteps = accumSteps;
        this.rank = rank;
        this.replicas = replicas;
        this.seed = seed;
        this.stepsPerEpoch = source.size() / globalBatch;
        this.prefetch = Math.max(1, prefetch);
        this.nextToSchedule = startStep;
        this.workers = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
            Thread t = new Thread(r, "siameseim-loader");
            t.setDaemon(true);
            return t;
        });
    }

    public long stepsPerEpoch() {
        return stepsPerEpoch;
    }

    /** The micro-batches of this replica for the next optimizer step. */
    public List<SiameseBatch> next() {
        while (queue.size() < prefetch) {
            long step = nextToSchedule++;
            queue.add(workers.submit(() -> build(step)));
        }
        try {
            return queue.poll().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while loading data", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("data loading failed: " + e.getCause().getMessage(), e.getCause());
        }
    }

    private List<SiameseBatch> build(long step) {
        long epoch = step / stepsPerEpoch;
        long within = step % stepsPerEpoch;
        int[] perm = order(epoch);
        int micro = globalBatch / accumSteps;
        int local = micro / replicas;
        List<SiameseBatch> out = new ArrayList<>(accumSteps);
        for (int a = 0; a < accumSteps; a++) {
            long base = within * globalBatch + (long) a * micro + (long) rank * local;
            out.add(batch(perm, epoch, base, local));
        }
        return out;
    }

    private SiameseBatch batch(int[] perm, long epoch, long base, int count) {
        int size = augmenter.imageSize();
        int lv = augmenter.visibleCount();
        int pixels = 3 * size * size;
        float[] v1 = new float[count * pixels];
        float[] v2 = new float[count * pixels];
        long[] vis = new long[count * lv];
        float[] geo = new float[count * 6];
        for (int i = 0; i < count; i++) {
            long position = base + i;
            SplittableRandom rng = new SplittableRandom(mix(seed, epoch, position));
            TwoViewAugmenter.Sample s = augmenter.apply(source.image(perm[(int) position]), rng);
            System.arraycopy(s.view1(), 0, v1, i * pixels, pixels);
            System.arraycopy(s.view2(), 0, v2, i * pixels, pixels);
            for (int k = 0; k < lv; k++) {
                vis[i * lv + k] = s.visible()[k];
            }
            s.geometry().writeTo(geo, i * 6);
        }
        return new SiameseBatch(count, size, v1, v2, vis, lv, geo);
    }

    private synchronized int[] order(long epoch) {
        if (orderEpoch != epoch) {
            order = permutation(source.size(), mix(seed, epoch, -1));
            orderEpoch = epoch;
        }
        return order;
    }

    /** The epoch's global sample order. */
    public static int[] permutation(int n, long seed) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    static long mix(long seed, long epoch, long position) {
        long h = seed * 0x9E3779B97F4A7C15L + epoch * 0xC2B2AE3D27D4EB4FL + position * 0x165667B19E3779F9L;
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        return h;
    }

    @Override
    public void close() {
        workers.shutdownNow();
    }
}
