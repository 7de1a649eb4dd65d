package siameseim.datasets.loader;

import siameseim.host.IdlePriority;
import siameseim.host.CpuAffinity;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import siameseim.datasets.decode.BadImageException;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.image.RgbImage;

/**
 * Feeds one replica. Each epoch has a global order of samples ({@link EpochOrder}); replica r of
 * N takes the r-th of N equal contiguous parts (drop-last to whole global batches), and its
 * optimizer step k of the epoch uses the next accum-steps x local-batch samples of that part.
 * Every sample's augmentation is seeded by (seed, epoch, its global position), so a step's data
 * does not depend on threads or timing. Worker threads decode and augment upcoming steps ahead;
 * the {@link BatchAssembler} decides what a micro-batch is (pretraining views or labelled images).
 */
public final class BatchLoader<B> implements AutoCloseable {
    private final SampleSource source;
    private final BatchAssembler<B> assembler;
    private final ImageDecoder decoder;
    private final long maxPixels;
    private final int localBatch;
    private final int accumSteps;
    private final int rank;
    private final long seed;
    private final long stepsPerEpoch;
    private final int prefetch;
    private final ExecutorService workers;
    /**
     * Takes each step's raw samples from the feed, in step order, and opens the next epoch's feed;
     * one thread, placed like the workers, so that neither the wait for an epoch's first shuffle
     * window nor the shard reader it starts (which inherits its creator's CPUs and priority)
     * lands on the training thread.
     */
    private final ExecutorService feeder;
    private volatile String setupRefused;
    private final DecodedCache cache;
    private final ArrayDeque<Future<List<B>>> queue = new ArrayDeque<>();
    private long nextToSchedule;
    // used by the feeder thread only
    private SampleSource.Feed feed;
    private long feedEpoch = -1;
    /** The next epoch's feed, opened {@link #epochLead()} steps before this epoch ends. */
    private SampleSource.Feed nextFeed;

    /**
     * @param startStep the optimizer step the next {@link #next()} returns (resume)
     */
    public BatchLoader(SampleSource source, BatchAssembler<B> assembler, ImageDecoder decoder, int globalBatch,
            int accumSteps, int rank, int replicas, long seed, long startStep, int threads, int prefetch) {
        this(source, assembler, decoder, globalBatch, accumSteps, rank, replicas, seed, startStep, threads, prefetch,
                WorkerSetup.NONE, null);
    }

    /**
     * Runs first in each worker thread and places it: its priority ({@link IdlePriority}), its
     * CPUs ({@link CpuAffinity}). Returns null, or why it could not; the worker then runs as it
     * was created.
     */
    @FunctionalInterface
    public interface WorkerSetup {
        WorkerSetup NONE = () -> null;

        String enter();

        /** This, then {@code next}; the reasons of both when both refuse. */
        default WorkerSetup andThen(WorkerSetup next) {
            return () -> {
                String a = enter();
                String b = next.enter();
                return a == null ? b : b == null ? a : a + "; " + b;
            };
        }
    }

    /**
     * @param startStep the optimizer step the next {@link #next()} returns (resume)
     * @param setup placement of the worker threads, e.g. idle priority for a replica whose training
     *     threads use every core it was given
     * @param cache decoded pixels kept across epochs, or null to decode every time
     */
    public BatchLoader(SampleSource source, BatchAssembler<B> assembler, ImageDecoder decoder, int globalBatch,
            int accumSteps, int rank, int replicas, long seed, long startStep, int threads, int prefetch,
            WorkerSetup setup, DecodedCache cache) {
        if (globalBatch % (accumSteps * replicas) != 0) {
            throw new IllegalArgumentException("global batch " + globalBatch + " is not divisible by accum-steps "
                    + accumSteps + " x replicas " + replicas);
        }
        if (source.size() < globalBatch) {
            throw new IllegalArgumentException("the dataset has " + source.size()
                    + " images, fewer than one global batch of " + globalBatch);
        }
        this.source = source;
        this.assembler = assembler;
        this.decoder = decoder;
        this.maxPixels = Long.MAX_VALUE;
        this.localBatch = globalBatch / accumSteps / replicas;
        this.accumSteps = accumSteps;
        this.rank = rank;
        this.seed = seed;
        this.stepsPerEpoch = source.size() / globalBatch;
        this.prefetch = Math.max(1, prefetch);
        this.nextToSchedule = startStep;
        this.cache = cache;
        this.workers = Executors.newFixedThreadPool(Math.max(1, threads), placed(setup, "siameseim-augment"));
        this.feeder = Executors.newSingleThreadExecutor(placed(setup, "siameseim-feed"));
    }

    private ThreadFactory placed(WorkerSetup setup, String name) {
        return r -> {
            Runnable body = () -> {
                String why = setup.enter();
                if (why != null) {
                    setupRefused = why;
                }
                r.run();
            };
            Thread t = new Thread(body, name);
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * Why a worker could not be placed as its {@link WorkerSetup} asked (it then runs as it was
     * created), or null: in effect, nothing asked, or no worker started yet.
     */
    public String setupRefused() {
        return setupRefused;
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
    public List<B> next() {
        while (queue.size() < prefetch) {
            schedule(nextToSchedule++);
        }
        try {
            return queue.poll().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while loading data", e);
        } catch (ExecutionException e) {
            // the stages wrap checked exceptions in CompletionException, which get() unwraps
            throw new IllegalStateException("data loading failed: " + e.getCause().getMessage(), e.getCause());
        }
    }

    /**
     * The trainer has copied a step's micro-batches from {@link #next()} into tensors: their large
     * arrays may serve a later step ({@link BatchAssembler#recycle}). Nothing may read them after.
     */
    public void recycle(List<B> batches) {
        for (B b : batches) {
            assembler.recycle(b);
        }
    }

    /** Queues the step: its raw samples from the feed (feeder thread, in order), then their augmentation. */
    private void schedule(long step) {
        long epoch = step / stepsPerEpoch;
        long within = step % stepsPerEpoch;
        long firstPosition = rank * stepsPerEpoch * samplesPerStep() + within * samplesPerStep();
        queue.add(CompletableFuture.supplyAsync(() -> take(epoch, within), feeder)
                .thenApplyAsync(raw -> build(raw, epoch, firstPosition), workers));
    }

    /**
     * The raw samples of step {@code within} of {@code epoch}, opening that epoch's feed when new.
     * The next epoch's feed is opened {@link #epochLead()} steps early, so its shard reader fetches
     * the first shuffle window while this epoch ends (on a CPU replica at idle priority, it only
     * gets the CPU time the training thread leaves; at ImageNet scale a window is hundreds of MB).
     */
    private RawSample[] take(long epoch, long within) {
        long part = stepsPerEpoch * samplesPerStep();
        long partStart = rank * part;
        try {
            if (feed == null || feedEpoch != epoch) {
                close(feed);
                if (nextFeed != null && within == 0 && feedEpoch == epoch - 1) {
                    feed = nextFeed;
                } else {
                    close(nextFeed);
                    feed = open(epoch, partStart + within * samplesPerStep(), partStart + part);
                }
                nextFeed = null;
                feedEpoch = epoch;
            }
            if (nextFeed == null && within >= stepsPerEpoch - epochLead()) {
                nextFeed = open(epoch + 1, partStart, partStart + part);
            }
        } catch (IOException e) {
            throw new CompletionException(e);
        }
        RawSample[] raw = new RawSample[samplesPerStep()];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = feed.next();
        }
        return raw;
    }

    /** A feed of the epoch's positions [from, to), without the bytes of samples the cache holds. */
    private SampleSource.Feed open(long epoch, long from, long to) throws IOException {
        return cache == null ? source.open(epoch, seed, from, to) : source.open(epoch, seed, from, to, cache::holds);
    }

    /** Steps before an epoch's end at which the next epoch's feed opens: half an epoch, at most 8. */
    private long epochLead() {
        return Math.max(1, Math.min(8, stepsPerEpoch / 2));
    }

    private static void close(SampleSource.Feed f) {
        if (f != null) {
            f.close();
        }
    }

    private List<B> build(RawSample[] raw, long epoch, long firstPosition) {
        List<B> out = new ArrayList<>(accumSteps);
        for (int a = 0; a < accumSteps; a++) {
            int offset = a * localBatch;
            RgbImage[] images = new RgbImage[localBatch];
            int[] labels = new int[localBatch];
            SplittableRandom[] rngs = new SplittableRandom[localBatch];
            for (int i = 0; i < localBatch; i++) {
                RawSample s = raw[offset + i];
                rngs[i] = new SplittableRandom(EpochOrder.mix(seed, epoch, firstPosition + offset + i));
                try {
                    images[i] = s.image() != null ? s.image() : decoded(s);
                } catch (BadImageException e) {
                    throw new CompletionException(e);
                }
                labels[i] = s.label();
            }
            SplittableRandom batchRng = new SplittableRandom(EpochOrder.mix(~seed, epoch, firstPosition + offset));
            out.add(assembler.assemble(images, labels, rngs, batchRng));
        }
        return out;
    }

    private RgbImage decoded(RawSample s) throws BadImageException {
        RgbImage img = cache == null ? null : cache.get(s.id());
        if (img == null) {
            if (s.encoded() == null) {
                throw new IllegalStateException("sample " + s.id() + " came without its bytes because the decoded-image"
                        + " cache said it held it, but the cache does not have it");
            }
            // grey images travel as one plane (RgbImage.greyIfNeutral), cached or not
            img = decoder.decode(s.encoded(), maxPixels).image().greyIfNeutral();
            if (cache != null) {
                cache.put(s.id(), img);
            }
        }
        return img;
    }

    @Override
    public void close() {
        workers.shutdownNow();
        feeder.shutdownNow();
        try {
            // the feeds belong to the feeder thread: close them once its last task has ended (a
            // feeder stuck in a read past the wait gets its feeds closed under it, which ends it)
            feeder.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        close(feed);
        close(nextFeed);
    }
}
