package siameseim.datasets.loader;

import java.util.SplittableRandom;

/**
 * The deterministic sample order of an epoch (docs/data-loading.md). Samples are numbered in
 * dataset order (shard by shard); the epoch's order permutes the shards with (seed, epoch),
 * concatenates their rows, and shuffles consecutive windows of {@code window} samples with
 * (seed, epoch, window). A window as large as the dataset is a full permutation (in-memory
 * data); a window of a few thousand rows lets a replica stream its share shard by shard with
 * bounded memory. The order is split into equal contiguous parts, one per replica, and the
 * remainder that does not fill a global batch is dropped.
 */
public final class EpochOrder {
    private EpochOrder() {}

    /** @param shardRows rows per shard, in dataset order */
    public static int[] of(long[] shardRows, long seed, long epoch, int window) {
        int shards = shardRows.length;
        long[] start = new long[shards + 1];
        for (int i = 0; i < shards; i++) {
            start[i + 1] = start[i] + shardRows[i];
        }
        int n = Math.toIntExact(start[shards]);
        int[] shardOrder = permutation(shards, mix(seed, epoch, -1));
        int[] order = new int[n];
        int k = 0;
        for (int s : shardOrder) {
            for (long r = start[s]; r < start[s + 1]; r++) {
                order[k++] = (int) r;
            }
        }
        int w = Math.max(1, window);
        for (int from = 0, idx = 0; from < n; from += w, idx++) {
            int to = Math.min(n, from + w);
            SplittableRandom rng = new SplittableRandom(mix(seed, epoch, idx));
            for (int i = to - 1; i > from; i--) {
                int j = from + rng.nextInt(i - from + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return order;
    }

    /** A uniform permutation of 0..n-1. */
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
