package siameseim.datasets.loader;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntPredicate;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.ShardReader;

/**
 * A split (or a subset of it) of a prepared dataset, streamed from its Parquet shards on any
 * Hadoop file system. An epoch share is read one shuffle window at a time by a background thread
 * ({@code readAhead} windows ahead), so memory stays at about (readAhead + 1) x window x image
 * size whatever the dataset size and the interleave: a window's rows are read by scanning the
 * shards they come from (one Parquet row group in memory at a time), keeping only those rows.
 *
 * <p>Samples the caller already holds decoded ({@link SampleSource#open(long, long, long, long,
 * IntPredicate)}) are served with the labels seen at their first read, without touching their
 * shards; a window none of whose samples must be read scans nothing. With the loader's
 * decoded-image cache on, once every sample was decoded an epoch reads nothing (the demo
 * dataset's shards were otherwise scanned in full every 15 steps by each replica).
 */
public final class ShardSource implements SampleSource {
    private final Configuration conf;
    private final Path root;
    private final List<String> shardPaths = new ArrayList<>();
    private final long[] shardRows;
    private final int[] shardOf;
    private final long[] rowOf;
    private final int window;
    private final int interleave;
    private final int readAhead;
    /** The label of each sample read so far, {@link #UNKNOWN} before its first read. */
    private final AtomicIntegerArray labels;
    private static final int UNKNOWN = Integer.MIN_VALUE;
    private final LongAdder samplesRead = new LongAdder();

    /**
     * @param selected sample rows to use, as (shard index, row) pairs in dataset order; null for the
     *     whole split
     * @param window samples shuffled together ({@link EpochOrder}); also what one read holds
     * @param interleave shards whose rows an epoch mixes together ({@link EpochOrder})
     */
    public ShardSource(Configuration conf, Path root, Manifest manifest, String split, long[][] selected, int window,
            int interleave, int readAhead) {
        this.conf = conf;
        this.root = root;
        Manifest.Split s = manifest.split(split);
        s.shards().forEach(sh -> shardPaths.add(sh.path()));
        this.window = window;
        this.interleave = interleave;
        this.readAhead = Math.max(1, readAhead);
        if (selected == null) {
            shardRows = s.shardRows();
            int n = Math.toIntExact(Arrays.stream(shardRows).sum());
            shardOf = new int[n];
            rowOf = new long[n];
            int k = 0;
            for (int sh = 0; sh < shardRows.length; sh++) {
                for (long r = 0; r < shardRows[sh]; r++) {
                    shardOf[k] = sh;
                    rowOf[k++] = r;
                }
            }
        } else {
            shardRows = new long[shardPaths.size()];
            shardOf = new int[selected.length];
            rowOf = new long[selected.length];
            for (int i = 0; i < selected.length; i++) {
                shardOf[i] = (int) selected[i][0];
                rowOf[i] = selected[i][1];
                shardRows[shardOf[i]]++;
                if (i > 0 && (shardOf[i] < shardOf[i - 1] || (shardOf[i] == shardOf[i - 1] && rowOf[i] <= rowOf[i - 1]))) {
                    throw new IllegalArgumentException("subset rows must be sorted in dataset order");
                }
            }
        }
        int[] unknown = new int[shardOf.length];
        Arrays.fill(unknown, UNKNOWN);
        labels = new AtomicIntegerArray(unknown);
    }

    @Override
    public int size() {
        return shardOf.length;
    }

    @Override
    public Feed open(long epoch, long seed, long from, long to) throws IOException {
        return open(epoch, seed, from, to, id -> false);
    }

    @Override
    public Feed open(long epoch, long seed, long from, long to, IntPredicate held) throws IOException {
        int[] order = EpochOrder.of(shardRows, seed, epoch, window, interleave);
        return new StreamingFeed(order, from, Math.min(to, order.length), held);
    }

    /**
     * The labels of positions {@code [from, to)} of the epoch's order, read from the shards'
     * label column only (no image bytes): what {@link BatchMixing} checks before training.
     */
    public int[] labels(long epoch, long seed, int from, int to) throws IOException {
        int[] order = EpochOrder.of(shardRows, seed, epoch, window, interleave);
        int[] ids = Arrays.copyOfRange(order, from, Math.min(to, order.length));
        TreeMap<Integer, Map<Long, Integer>> byShard = new TreeMap<>();
        for (int id : ids) {
            byShard.computeIfAbsent(shardOf[id], k -> new HashMap<>()).put(rowOf[id], id);
        }
        Map<Integer, Integer> labelOf = new HashMap<>();
        for (Map.Entry<Integer, Map<Long, Integer>> e : byShard.entrySet()) {
            for (ShardReader.KeyLabel k : ShardReader.keys(conf, new Path(root, shardPaths.get(e.getKey())))) {
                Integer id = e.getValue().get(k.row());
                if (id != null) {
                    labelOf.put(id, k.label());
                }
            }
        }
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            Integer l = labelOf.get(ids[i]);
            if (l == null) {
                throw new IOException(new Path(root, shardPaths.get(shardOf[ids[i]])) + " has fewer rows than its"
                        + " manifest entry says: the dataset is damaged");
            }
            out[i] = l;
        }
        return out;
    }

    /**
     * One window's samples in order: those held by the caller (and read once before, for their
     * label) without bytes, the others read from their shards.
     */
    private List<RawSample> window(int[] ids, IntPredicate held) throws IOException {
        int[] toRead = Arrays.stream(ids).filter(id -> labels.get(id) == UNKNOWN || !held.test(id)).toArray();
        Map<Integer, RawSample> got = toRead.length == 0 ? Map.of() : read(toRead);
        List<RawSample> chunk = new ArrayList<>(ids.length);
        for (int id : ids) {
            RawSample s = got.get(id);
            chunk.add(s != null ? s : new RawSample(id, labels.get(id), null, null));
        }
        return chunk;
    }

    /** Samples read from the shards so far, by every feed. */
    public long samplesRead() {
        return samplesRead.sum();
    }

    /** Reads the listed sample ids (any order) and returns them keyed by id. */
    Map<Integer, RawSample> read(int[] ids) throws IOException {
        TreeMap<Integer, Map<Long, Integer>> byShard = new TreeMap<>();
        for (int id : ids) {
            byShard.computeIfAbsent(shardOf[id], k -> new HashMap<>()).put(rowOf[id], id);
        }
        Map<Integer, RawSample> out = new HashMap<>();
        for (Map.Entry<Integer, Map<Long, Integer>> e : byShard.entrySet()) {
            Map<Long, Integer> rows = e.getValue();
            long last = rows.keySet().stream().mapToLong(Long::longValue).max().orElse(-1);
            Path shard = new Path(root, shardPaths.get(e.getKey()));
            int[] found = {0};
            ShardReader.scan(conf, shard, rows::containsKey, (row, rec) -> {
                int id = rows.get(row);
                out.put(id, new RawSample(id, rec.label(), rec.image(), null));
                labels.set(id, rec.label());
                found[0]++;
                return row < last;
            });
            if (found[0] != rows.size()) {
                throw new IOException(shard + " has fewer rows than its manifest entry says (" + found[0] + " of "
                        + rows.size() + " wanted rows found): the dataset is damaged");
            }
        }
        samplesRead.add(ids.length);
        return out;
    }

    private final class StreamingFeed implements Feed {
        private final BlockingQueue<Object> chunks = new ArrayBlockingQueue<>(readAhead);
        private final Thread reader;
        private List<RawSample> current = List.of();
        private int index;
        private long remaining;
        private volatile boolean closed;

        StreamingFeed(int[] order, long from, long to, IntPredicate held) {
            this.remaining = Math.max(0, to - from);
            reader = new Thread(() -> {
                try {
                    long pos = from;
                    while (pos < to && !closed) {
                        long end = Math.min(to, (pos / window + 1) * (long) window);
                        chunks.put(window(Arrays.copyOfRange(order, (int) pos, (int) end), held));
                        pos = end;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (IOException | RuntimeException e) {
                    try {
                        chunks.put(e);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                    }
                }
            }, "siameseim-shard-reader");
            reader.setDaemon(true);
            reader.start();
        }

        @Override
        public boolean hasNext() {
            return remaining > 0;
        }

        @Override
        public RawSample next() {
            if (remaining <= 0) {
                throw new NoSuchElementException();
            }
            while (index >= current.size()) {
                Object o;
                try {
                    o = chunks.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while reading shards", e);
                }
                if (o instanceof Exception e) {
                    throw new IllegalStateException("reading " + root + " failed: " + e.getMessage(), e);
                }
                @SuppressWarnings("unchecked")
                List<RawSample> chunk = (List<RawSample>) o;
                current = chunk;
                index = 0;
            }
            remaining--;
            return current.get(index++);
        }

        @Override
        public void close() {
            closed = true;
            reader.interrupt();
        }
    }
}
