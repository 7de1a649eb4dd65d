package siameseim.datasets.loader;

import java.util.SplittableRandom;

/**
 * The deterministic sample order of an epoch (docs/dataset-format.md, "Sample order"). Samples
 * are numbered in dataset order (shard by shard). The epoch's order
 * <ol>
 *   <li>permutes the shards with (seed, epoch);</li>
 *   <li>takes them {@code interleave} at a time, in that order: the rows of such a group of shards
 *       come in a uniformly random order (seeded by seed, epoch, group), so that every part of the
 *       group is a uniform sample of it; with {@code interleave = 1} a shard's rows keep their
 *       stored order;</li>
 *   <li>shuffles consecutive windows of {@code window} positions with (seed, epoch, window).</li>
 * </ol>
 * A dataset whose rows are stored in a uniformly random order (what {@code prepare} writes) is
 * well mixed with {@code interleave = 1}: every window of the stored order is a uniform sample. A
 * dataset stored in class order needs the interleave: without it, a window a class long holds one
 * class. Reading a window costs a scan of the shards its rows come from, so memory stays about a
 * window's samples whatever the interleave; the interleave costs reading, not memory.
 *
 * <p>The order is split into equal contiguous parts, one per replica, and the remainder that does
 * not fill a global batch is dropped ({@link BatchLoader}).
 */
public final class EpochOrder {
    private EpochOrder() {}

    /** @param shardRows rows per shard, in dataset order */
    public static int[] of(long[] shardRows, long seed, long epoch, int window, int interleave) {
        int shards = shardRows.length;
        long[] start = new long[shards + 1];
        for (int i = 0; i < shards; i++) {
            start[i + 1] = start[i] + shardRows[i];
        }
        int n = Math.toIntExact(start[shards]);
        int[] shardOrder = permutation(shards, mix(seed, epoch, -1));
        int[] order = new int[n];
        int k = 0;
        int step = Math.max(1, interleave);
        for (int g = 0; g * step < shards; g++) {
            int groupStart = k;
            for (int i = g * step; i < Math.min(shards, (g + 1) * step); i++) {
                int s = shardOrder[i];
                for (long r = start[s]; r < start[s + 1]; r++) {
                    order[k++] = (int) r;
                }
            }
            if (step > 1) {
                shuffle(order, groupStart, k, new SplittableRandom(mix(seed, epoch, -2 - g)));
            }
        }
        int w = Math.max(1, window);
        for (int from = 0, idx = 0; from < n; from += w, idx++) {
            shuffle(order, from, Math.min(n, from + w), new SplittableRandom(mix(seed, epoch, idx)));
        }
        return order;
    }

    /** A uniform permutation of 0..n-1. */
    public static int[] permutation(int n, long seed) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        shuffle(p, 0, n, new SplittableRandom(seed));
        return p;
    }

    /** Fisher-Yates over {@code a[from, to)}. */
    private static void shuffle(int[] a, int from, int to, SplittableRandom rng) {
        for (int i = to - 1; i > from; i--) {
            int j = from + rng.nextInt(i - from + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** A well-mixed 64-bit seed from (seed, epoch, index). */
    public static long mix(long seed, long epoch, long index) {
        long h = seed * 0x9E3779B97F4A7C15L + epoch * 0xC2B2AE3D27D4EB4FL + index * 0x165667B19E3779F9L;
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        h *= 0xC4CEB9FE1A85EC53L;
        h ^= h >>> 33;
        return h;
    }
}
