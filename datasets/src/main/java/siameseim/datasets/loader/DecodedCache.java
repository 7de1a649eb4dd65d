package siameseim.datasets.loader;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import siameseim.datasets.image.RgbImage;

/**
 * The decoded pixels of the samples a loader has seen (8-bit planes), so that later epochs skip
 * the decoder: for a dataset whose pixels fit in memory (the demo's 48 px images: 6.9 KB each,
 * 28 MB for 4 000; CIFAR-sized data) decoding was about a quarter of the loader's time per image.
 * Pixels come back exactly as decoded, so batches are the same bits with or without it.
 *
 * <p>Over its epochs a replica sees every sample of the split (its part of the global order
 * changes each epoch), so the cache needs room for all of them. After the first
 * {@value #PROBE} images it projects the split's decoded size from their mean; when that exceeds
 * the budget (ImageNet: hundreds of GB) it empties itself and stays off, instead of holding a
 * budget's worth of pixels that would rarely be asked for again. Entries are never evicted.
 *
 * <p>A grey image (three equal planes) is kept as one plane and comes back as a grey
 * {@link RgbImage}: a third of the memory, and the augmentation works on one plane.
 */
public final class DecodedCache {
    /** Images decoded before the cache decides whether the whole split fits. */
    static final int PROBE = 64;
    /** Bytes counted per entry beyond its pixels (map node, key, arrays' headers). */
    private static final int OVERHEAD = 96;

    private record Entry(int width, int height, boolean grey, byte[] planes) {}

    private final long budget;
    private final long samples;
    private final ConcurrentHashMap<Integer, Entry> images = new ConcurrentHashMap<>();
    private final AtomicLong used = new AtomicLong();
    private final AtomicLong probed = new AtomicLong();
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private volatile String off;
    /** Set once the cache has decided to stay on: from then on it neither turns off nor drops entries. */
    private volatile boolean settled;

    /**
     * @param budgetBytes the most bytes to hold; at most a quarter of the JVM's maximum heap is used
     * @param samples how many samples the loader's source has (every one may be cached)
     */
    public DecodedCache(long budgetBytes, long samples) {
        this.budget = Math.min(budgetBytes, Runtime.getRuntime().maxMemory() / 4);
        this.samples = samples;
        if (budget <= 0) {
            off = "off (budget 0)";
        }
        settled = off == null && samples < PROBE;
    }

    /** The pixels of sample {@code id} as a new image, or null when they are not held. */
    public RgbImage get(int id) {
        Entry e = off == null ? images.get(id) : null;
        if (e == null) {
            misses.increment();
            return null;
        }
        hits.increment();
        byte[] p = e.planes();
        float[] d = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            d[i] = p[i] & 0xff;
        }
        return e.grey() ? RgbImage.grey(e.width(), e.height(), d) : new RgbImage(e.width(), e.height(), d);
    }

    /**
     * Whether {@link #get} will find sample {@code id}, now and later: true only once the cache has
     * decided to stay on, after which entries are never dropped. A loader's source may then skip
     * reading the sample's bytes.
     */
    public boolean holds(int id) {
        return settled && images.containsKey(id);
    }

    /** Keeps the pixels of sample {@code id} (8-bit values, as every decoder gives) if they fit. */
    public void put(int id, RgbImage image) {
        if (off != null) {
            return;
        }
        RgbImage img = image.greyIfNeutral();
        float[] d = img.data();
        long bytes = d.length + (long) OVERHEAD;
        long n = probed.incrementAndGet();
        if (n == PROBE) {
            long projected = samples * (used.get() + bytes) / n;
            if (projected > budget) {
                off = String.format(java.util.Locale.ROOT, "off (the split's decoded pixels would take about %d MB,"
                        + " over the budget of %d MB)", projected >> 20, budget >> 20);
                images.clear();
                used.set(0);
                return;
            }
            settled = true;
        }
        if (used.addAndGet(bytes) > budget) {
            used.addAndGet(-bytes);
            return;
        }
        byte[] p = new byte[d.length];
        for (int i = 0; i < d.length; i++) {
            p[i] = (byte) d[i];
        }
        if (images.putIfAbsent(id, new Entry(img.width(), img.height(), img.isGrey(), p)) != null) {
            used.addAndGet(-bytes);
        }
    }

    public long hits() {
        return hits.sum();
    }

    public long misses() {
        return misses.sum();
    }

    /** Images held. */
    public int size() {
        return images.size();
    }

    /** Whether the cache has turned itself off (or was given no budget). */
    public boolean isOff() {
        return off != null;
    }

    /** One line for the logs: what it holds and its hit rate, or why it is off. */
    public String describe() {
        if (off != null) {
            return "decoded-image cache " + off;
        }
        long h = hits();
        long all = h + misses();
        return String.format(java.util.Locale.ROOT, "decoded-image cache: %d images, %.1f MB of %d MB, %.0f%% of"
                + " lookups hit", size(), used.get() / 1048576.0, budget >> 20, all == 0 ? 0.0 : 100.0 * h / all);
    }
}
