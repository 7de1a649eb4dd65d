package siameseim.datasets.prepare;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import siameseim.datasets.decode.BadImageException;
import siameseim.datasets.shards.ImageRecord;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.ShardInfo;
import siameseim.datasets.shards.ShardWriter;

/**
 * One unit of preparation work: a contiguous run of the listing in stored row order
 * ({@link SourceListing#files(Manifest.RowOrder)}), written as shards
 * {@code <split>/part-<task>-<seq>.parquet} under {@code root}. Tasks are independent and
 * deterministic, so Spark may retry or speculate them.
 */
public final class PrepareTask {
    private PrepareTask() {}

    /** What a task wrote and what it refused. */
    /** @param images per split */
    public record Result(int task, Map<String, List<ShardInfo>> shards, Map<String, long[]> perClass,
            List<Manifest.BadFile> bad, Map<String, Long> images) implements Serializable {}

    /** One input image: where it goes, its class (null: none) and its encoded bytes. */
    public interface Item {
        String split();

        String wnid();

        String key();

        byte[] bytes(Configuration conf) throws IOException;
    }

    /**
     * Prepares {@code items} (in stored row order) into shards.
     *
     * @param classes the dataset's classes; empty: an unlabelled dataset (every label -1)
     */
    public static Result run(int task, java.util.Iterator<? extends Item> items, List<String> classes,
            PrepareOptions options, Configuration conf, Path root) throws IOException {
        boolean unlabelled = classes.isEmpty();
        Map<String, Integer> index = new java.util.HashMap<>();
        for (int i = 0; i < classes.size(); i++) {
            index.putIfAbsent(classes.get(i), i);
        }
        ImagePreparer preparer = new ImagePreparer(options);
        Map<String, ShardWriter> writers = new LinkedHashMap<>();
        Map<String, long[]> perClass = new LinkedHashMap<>();
        List<Manifest.BadFile> bad = new ArrayList<>();
        Map<String, Long> images = new LinkedHashMap<>();
        String prefix = String.format(Locale.ROOT, "part-%05d", task);
        try (ReadAhead ahead = new ReadAhead(items, options.readAhead(), conf)) {
            while (ahead.hasNext()) {
                ReadAhead.Fetched fetched = ahead.next();
                Item f = fetched.item();
                String shown = f.split() + "/" + f.key();
                if (fetched.error() instanceof InputImage.BadInput b) {
                    bad.add(new Manifest.BadFile(shown, b.reason(), b.getMessage()));
                    continue;
                }
                if (f.wnid() == null && !unlabelled) {
                    bad.add(new Manifest.BadFile(shown, "NO_CLASS", f.split().equals("val")
                            ? "no label (not listed in the validation ground-truth file, or an index row without one)"
                            : "no label (a file outside any class folder, or an index row without one)"));
                    continue;
                }
                int label = unlabelled ? -1 : index.getOrDefault(f.wnid(), -1);
                byte[] bytes = fetched.bytes();
                if (fetched.error() != null) {
                    bad.add(new Manifest.BadFile(shown, BadImageException.Reason.UNREADABLE.name(),
                            fetched.error().getMessage()));
                    continue;
                }
                ImageRecord r;
                try {
                    r = preparer.prepare(f.key(), label, unlabelled ? "" : f.wnid(), bytes);
                } catch (BadImageException e) {
                    bad.add(new Manifest.BadFile(shown, e.reason().name(), e.getMessage()));
                    continue;
                } catch (RuntimeException | OutOfMemoryError e) {
                    bad.add(new Manifest.BadFile(shown, BadImageException.Reason.CORRUPT.name(),
                            "decoder failure: " + e));
                    continue;
                }
                writers.computeIfAbsent(f.split(), s -> new ShardWriter(conf, root, s, prefix, options.shardBytes()))
                        .write(r);
                long[] counts = perClass.computeIfAbsent(f.split(), s -> new long[classes.size()]);
                if (label >= 0) {
                    counts[label]++;
                }
                images.merge(f.split(), 1L, Long::sum);
            }
        } finally {
            for (ShardWriter w : writers.values()) {
                w.close();
            }
        }
        Map<String, List<ShardInfo>> shards = new LinkedHashMap<>();
        writers.forEach((split, w) -> shards.put(split, List.copyOf(w.shards())));
        return new Result(task, shards, perClass, bad, images);
    }

    /**
     * Splits the listing (in stored row order) into contiguous groups of about {@code targetBytes} input bytes
     * (never mixing splits), at least {@code minTasks} groups when there are enough files.
     */
    public static List<List<SourceFile>> plan(List<SourceFile> files, long targetBytes, int minTasks) {
        return plan(files, SourceFile::split, SourceFile::bytes, targetBytes, minTasks);
    }

    /** {@link #plan(List, long, int)} for any kind of input unit (files, tars, members of a tar). */
    public static <T> List<List<T>> plan(List<T> files, java.util.function.Function<T, String> splitOf,
            java.util.function.ToLongFunction<T> bytesOf, long targetBytes, int minTasks) {
        long total = 0;
        for (T f : files) {
            total += bytesOf.applyAsLong(f);
        }
        long budget = Math.max(1, Math.min(targetBytes, minTasks > 0 ? total / minTasks + 1 : targetBytes));
        List<List<T>> groups = new ArrayList<>();
        List<T> cur = new ArrayList<>();
        long bytes = 0;
        String split = null;
        for (T f : files) {
            long b = bytesOf.applyAsLong(f);
            if (!cur.isEmpty() && (bytes + b > budget || !splitOf.apply(f).equals(split))) {
                groups.add(cur);
                cur = new ArrayList<>();
                bytes = 0;
            }
            cur.add(f);
            bytes += b;
            split = splitOf.apply(f);
        }
        if (!cur.isEmpty()) {
            groups.add(cur);
        }
        return groups;
    }
}
