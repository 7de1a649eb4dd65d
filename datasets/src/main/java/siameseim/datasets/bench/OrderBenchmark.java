package siameseim.datasets.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import siameseim.datasets.loader.BatchMixing;
import siameseim.datasets.loader.EpochOrder;

/**
 * What {@code data.interleave} buys and costs on datasets stored in class order (`bench --only
 * order`): for each interleave, the mixing of the first batches of replica 0 of 2 (distinct classes
 * per batch of 64 and the top class's share, against the uniform expectation) and the rows a
 * {@code ShardSource} scans per row it serves over a whole epoch of replica 0 (each window's rows
 * are read by scanning each shard they come from up to the last wanted row). Memory does not
 * depend on the interleave: (read-ahead + 1) windows of encoded images. Computed from the epoch
 * order alone; no file is read.
 */
public final class OrderBenchmark {
    private OrderBenchmark() {}

    /** A dataset stored in class order: {@code classes} x {@code perClass} rows in shards of {@code shardRows}. */
    public record Layout(String name, int classes, int perClass, int shardRows, int window) {
        long[] shards() {
            int n = classes * perClass;
            int count = (n + shardRows - 1) / shardRows;
            long[] rows = new long[count];
            for (int i = 0; i < count; i++) {
                rows[i] = Math.min(shardRows, n - (long) i * shardRows);
            }
            return rows;
        }
    }

    public static final List<Layout> LAYOUTS = List.of(
            new Layout("Fashion-MNIST train stored sorted (60 000 rows, 4 shards)", 10, 6000, 15000, 4096),
            new Layout("ImageNet-1k train stored sorted (1 281 000 rows, 128 MB shards of 1 165 rows)", 1000, 1281,
                    1165, 4096));

    public static List<String> run(int[] interleaves) {
        List<String> out = new ArrayList<>();
        int batch = 64;
        int replicas = 2;
        for (Layout l : LAYOUTS) {
            long[] shards = l.shards();
            long[] perClass = new long[l.classes()];
            java.util.Arrays.fill(perClass, l.perClass());
            out.add(String.format(Locale.ROOT, "%s, window %d, replica batch %d: uniform samples hold %.2f classes",
                    l.name(), l.window(), batch, BatchMixing.uniformClasses(perClass, batch)));
            for (int k : interleaves) {
                int[] order = EpochOrder.of(shards, 0, 0, l.window(), k);
                int n = order.length;
                int part = n / (batch * replicas) * batch;
                int[] labels = new int[Math.min(part, 50 * batch)];
                for (int i = 0; i < labels.length; i++) {
                    labels[i] = order[i] / l.perClass();
                }
                BatchMixing.Measure m = BatchMixing.of(labels, batch);
                out.add(String.format(Locale.ROOT, "  interleave %4d: %6.2f classes per batch, top class %5.1f %%,"
                        + " %6.2f rows scanned per row served", k, m.classes(), 100 * m.topShare(),
                        scanned(order, shards, 0, part, l.window()) / (double) part));
            }
        }
        return out;
    }

    /** Rows ShardSource scans to serve positions [from, to) of {@code order}, window by window. */
    static long scanned(int[] order, long[] shardRows, int from, int to, int window) {
        long[] start = new long[shardRows.length + 1];
        for (int i = 0; i < shardRows.length; i++) {
            start[i + 1] = start[i] + shardRows[i];
        }
        long total = 0;
        for (int pos = from; pos < to; ) {
            int end = Math.min(to, (pos / window + 1) * window);
            Map<Integer, Long> last = new HashMap<>();
            for (int i = pos; i < end; i++) {
                int shard = java.util.Arrays.binarySearch(start, order[i]);
                shard = shard >= 0 ? shard : -shard - 2;
                last.merge(shard, order[i] - start[shard] + 1, Math::max);
            }
            for (long rows : last.values()) {
                total += rows;
            }
            pos = end;
        }
        return total;
    }
}
