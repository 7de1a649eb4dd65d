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
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.ShardReader;

/**
 * A split (or a subset of it) of a prepared dataset, streamed from its Parquet shards on any
 * Hadoop file system. An epoch share is read one shuffle window at a time by a background thread
 * ({@code readAhead} windows ahead), so memory stays at about (readAhead + 1) x window x image
 * size whatever the dataset size.
 */
public final class ShardSource implements SampleSource {
    private final Configuration conf;
    private final Path root;
    private final List<String> shardPaths = new ArrayList<>();
    private final long[] shardRows;
    private final int[] shardOf;
    private final long[] rowOf;
    private final int window;
    private final int readAhead;

    /**
     * @param selected sample rows to use, as (shard index, row) pairs in dataset order; null for the
     *     whole split
     */
    public ShardSource(Configuration conf, Path root, Manifest manifest, String split, long[][] selected, int window,
            int readAhead) {
        this.conf = conf;
        this.root = root;
        Manifest.Split s = manifest.split(split);
        s.shards().forEach(sh -> shardPaths.add(sh.path()));
        this.window = window;
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
    }

    @Override
    public int size() {
        return shardOf.length;
    }

    @Override
    public Feed open(long epoch, long seed, long from, long to) throws IOException {
        int[] order = EpochOrder.of(shardRows, seed, epoch, window);
        return new StreamingFeed(order, from, Math.min(to, order.length));
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
                found[0]++;
                return row < last;
            });
            if (found[0] != rows.size()) {
                throw new IOException(shard + " has fewer rows than its manifest entry says (" + found[0] + " of "
                        + rows.size() + " wanted rows found): the dataset is damaged");
            }
        }
        return out;
    }

    private final class StreamingFeed implements Feed {
        private final BlockingQueue<Object> chunks = new ArrayBlockingQueue<>(readAhead);
        private final Thread reader;
        private List<RawSample> current = List.of();
        private int index;
        private long remaining;
        private volatile boolean closed;

        StreamingFeed(int[] order, long from, long to) {
            this.remaining = Math.max(0, to - from);
            reader = new Thread(() -> {
                try {
                    long pos = from;
                    while (pos < to && !closed) {
                        long end = Math.min(to, (pos / window + 1) * (long) window);
                        int[] ids = Arrays.copyOfRange(order, (int) pos, (int) end);
                        Map<Integer, RawSample> got = read(ids);
                        List<RawSample> chunk = new ArrayList<>(ids.length);
                        for (int id : ids) {
                            chunk.add(got.get(id));
                        }
                        chunks.put(chunk);
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
