package siameseim.datasets.prepare;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;

/**
 * A prepare task's inputs with their bytes, read up to {@code depth} ahead on as many threads and
 * handed out in input order: on an object store each read is a round trip (S3: one request per
 * object), which a task reading one file at a time waits out in turn. Only the task's thread
 * advances the input iterator; a failed read becomes the item's error, never lost.
 */
final class ReadAhead implements AutoCloseable {
    /** An input, its bytes, or why they could not be read. */
    record Fetched(PrepareTask.Item item, byte[] bytes, IOException error) {}

    private final Iterator<? extends PrepareTask.Item> items;
    private final Configuration conf;
    private final int depth;
    private final ExecutorService pool;
    private final ArrayDeque<Future<Fetched>> queue = new ArrayDeque<>();

    ReadAhead(Iterator<? extends PrepareTask.Item> items, int depth, Configuration conf) {
        this.items = items;
        this.conf = conf;
        this.depth = Math.max(1, depth);
        this.pool = depth > 1 ? Executors.newFixedThreadPool(depth, r -> {
            Thread t = new Thread(r, "siameseim-prepare-read");
            t.setDaemon(true);
            return t;
        }) : null;
    }

    boolean hasNext() {
        fill();
        return !queue.isEmpty();
    }

    Fetched next() throws IOException {
        fill();
        try {
            return queue.poll().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while reading the inputs");
        } catch (ExecutionException e) {
            throw new IOException(e.getCause());
        }
    }

    private void fill() {
        while (queue.size() < depth && items.hasNext()) {
            PrepareTask.Item it = items.next();
            queue.add(pool == null ? CompletableFuture.completedFuture(fetch(it)) : pool.submit(() -> fetch(it)));
        }
    }

    private Fetched fetch(PrepareTask.Item it) {
        try {
            return new Fetched(it, it.bytes(conf), null);
        } catch (IOException e) {
            return new Fetched(it, null, e);
        } catch (RuntimeException e) {
            return new Fetched(it, null, new IOException(e.toString(), e));
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
