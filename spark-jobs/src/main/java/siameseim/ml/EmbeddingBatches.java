package siameseim.ml;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import siameseim.datasets.augment.EvalTransform;
import siameseim.datasets.image.RgbImage;
import siameseim.eval.FeatureExtractor;
import siameseim.model.nn.Torch;

/**
 * Images to frozen-encoder features in batches: the loop of every embedding path ({@code embed},
 * {@link ImageEmbedder}, the evaluations' feature extraction, {@code bench --only embed}). The
 * caller decodes and transforms the images of the next batch into one buffer while the encoder
 * runs on the previous batch, in the other buffer, on a worker thread, or the forward pass runs on
 * the caller's thread between batches: {@link Overlap#AUTO} measures the first batches each way
 * and keeps the faster ({@link OverlapChoice}; the decoding thread competes with the forward
 * pass's threads, and on some hosts overlapping lost). Features reach the sink in
 * the order the items were added, on the caller's thread; an item without an image gets null and
 * does not count towards a batch, so batches hold the same images either way.
 */
public final class EmbeddingBatches<T> implements AutoCloseable {
    /** Whether decoding overlaps the forward pass. */
    public enum Overlap {
        /** Measured on the first batches ({@link OverlapChoice}): what the jobs use. */
        AUTO,
        /** Always: the next batch is decoded while the encoder runs on the current one. */
        ON,
        /** Never: the forward pass runs on the caller's thread between batches. */
        OFF
    }

    /** Where each item's feature goes (null: the item had no image). */
    public interface Sink<T> {
        void accept(T item, float[] feature) throws IOException;
    }

    // reused across tasks, so that each thread's OpenMP team is made once, not once per partition
    private static final ExecutorService FORWARD = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "siameseim-embedding-forward");
        t.setDaemon(true);
        return t;
    });

    private final FeatureExtractor fx;
    private final EvalTransform tf;
    private final int batch;
    private final int pixels;
    private final NDManager manager;
    private final OverlapChoice choice;
    private final Sink<T> sink;
    private Batch<T> filling;
    private Batch<T> spare;
    private Batch<T> inFlight;
    private Future<float[]> result;
    /** The plan of the last dispatched batch, when it started and whether it was full (its cycle is measured). */
    private OverlapChoice.Plan lastPlan;
    private long lastDispatch;
    private boolean lastFull;

    private static final class Batch<T> {
        final float[] images;
        final List<T> items = new ArrayList<>();
        final List<Boolean> hasImage = new ArrayList<>();
        int count;

        Batch(int floats) {
            images = new float[floats];
        }

        void clear() {
            items.clear();
            hasImage.clear();
            count = 0;
        }
    }

    /** On the caller's thread, whose intra-op thread count the worker takes over. */
    public EmbeddingBatches(FeatureExtractor fx, EvalTransform tf, int batch, NDManager manager, Overlap overlap,
            Sink<T> sink) {
        this.fx = fx;
        this.tf = tf;
        this.batch = batch;
        this.pixels = 3 * tf.size() * tf.size();
        this.manager = manager;
        int threads = ai.djl.pytorch.jni.JniUtils.getNumThreads();
        this.choice = switch (overlap) {
            case AUTO -> new OverlapChoice(threads, 2);
            case ON -> OverlapChoice.fixed(new OverlapChoice.Plan(true, threads));
            case OFF -> OverlapChoice.fixed(new OverlapChoice.Plan(false, threads));
        };
        this.sink = sink;
        filling = new Batch<>(batch * pixels);
        spare = new Batch<>(batch * pixels);
    }

    /** Adds an item with its decoded image, or null when it has none. */
    public void add(T item, RgbImage image) throws IOException {
        if (image != null) {
            tf.apply(image, filling.images, filling.count++ * pixels);
        }
        filling.items.add(item);
        filling.hasImage.add(image != null);
        if (filling.count == batch) {
            dispatch();
        }
    }

    /** Embeds what is left and delivers every feature. */
    public void finish() throws IOException {
        if (!filling.items.isEmpty()) {
            dispatch();
        }
        deliverInFlight();
    }

    /**
     * Waits for the batch on the worker, if any, and delivers its features; the batch being filled
     * stays. For a timed section that must start with nothing in flight ({@code bench --only embed}).
     */
    public void drain() throws IOException {
        deliverInFlight();
    }

    /** How the batches run now ("overlapped on 1 thread"), with the measured cycles once AUTO chose. */
    public String overlapReport() {
        OverlapChoice.Plan p = choice.chosen();
        return p == null ? "still measuring" : p.describe() + (choice.report().isEmpty() ? ""
                : " (measured batch cycles: " + choice.report() + ")");
    }

    private void dispatch() throws IOException {
        long now = System.nanoTime();
        if (lastPlan != null) {
            choice.measured(lastPlan, now - lastDispatch, lastFull);
        }
        OverlapChoice.Plan plan = choice.next();
        Batch<T> b = filling;
        deliverInFlight();
        filling = spare;
        spare = null;
        lastPlan = plan;
        lastDispatch = now;
        lastFull = b.count == batch;
        if (plan.overlap()) {
            inFlight = b;
            result = FORWARD.submit(() -> forward(b, plan.threads()));
        } else {
            deliver(b, forward(b, plan.threads()));
            spare = b;
        }
    }

    private float[] forward(Batch<T> b, int threads) {
        if (b.count == 0) {
            return new float[0];
        }
        Torch.init(threads); // a no-op unless this thread last ran with another count
        return fx.extract(b.count == batch ? b.images : Arrays.copyOf(b.images, b.count * pixels), b.count, tf.size(),
                manager);
    }

    private void deliverInFlight() throws IOException {
        if (inFlight == null) {
            return;
        }
        float[] f = await();
        Batch<T> b = inFlight;
        inFlight = null;
        deliver(b, f);
        spare = b;
    }

    private float[] await() throws IOException {
        try {
            return result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while the encoder ran", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IOException(e.getCause().getMessage(), e.getCause());
        }
    }

    private void deliver(Batch<T> b, float[] f) throws IOException {
        int d = fx.dimension();
        int k = 0;
        for (int i = 0; i < b.items.size(); i++) {
            float[] one = null;
            if (b.hasImage.get(i)) {
                one = Arrays.copyOfRange(f, k * d, (k + 1) * d);
                k++;
            }
            sink.accept(b.items.get(i), one);
        }
        b.clear();
    }

    /** Waits for a batch still on the worker (after a failure), so that the manager outlives it. */
    @Override
    public void close() {
        if (inFlight != null) {
            try {
                result.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException e) {
                // the failure that matters is the one being thrown already
            }
            inFlight = null;
        }
    }
}
