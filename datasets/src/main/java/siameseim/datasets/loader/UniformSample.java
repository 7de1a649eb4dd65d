package siameseim.datasets.loader;

import java.util.BitSet;
import java.util.SplittableRandom;

/**
 * Exactly {@code limit} of a split's {@code total} rows, uniformly at random (Floyd's sampling,
 * seeded), whatever order the rows are stored in: the evaluation subsets (kNN memory bank, test
 * images, training-feature limits) use it instead of a prefix of an order.
 */
public final class UniformSample {
    private UniformSample() {}

    /** The chosen rows, numbered in dataset order (shard by shard); every row when limit >= total. */
    public static BitSet of(long total, long limit, long seed) {
        BitSet chosen = new BitSet(Math.toIntExact(total));
        if (limit >= total) {
            chosen.set(0, (int) total);
            return chosen;
        }
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
        for (long j = total - limit; j < total; j++) {
            int t = (int) rnd.nextLong(j + 1);
            chosen.set(chosen.get(t) ? (int) j : t);
        }
        return chosen;
    }

    /** The chosen rows as (shard, row) pairs in dataset order, for {@link ShardSource}'s selection. */
    public static long[][] rows(long[] shardRows, long limit, long seed) {
        long total = 0;
        for (long r : shardRows) {
            total += r;
        }
        BitSet chosen = of(total, limit, seed);
        long[][] out = new long[chosen.cardinality()][];
        int k = 0;
        long offset = 0;
        for (int s = 0; s < shardRows.length; s++) {
            for (int i = chosen.nextSetBit((int) offset); i >= 0 && i < offset + shardRows[s];
                    i = chosen.nextSetBit(i + 1)) {
                out[k++] = new long[] {s, i - offset};
            }
            offset += shardRows[s];
        }
        return out;
    }
}
