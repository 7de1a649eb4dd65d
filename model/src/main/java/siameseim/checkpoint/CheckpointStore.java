package siameseim.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Checkpoints of a run on any Hadoop file system, {@code <dir>/ckpt-<step>.safetensors} plus a
 * {@code latest} pointer. A checkpoint is written under a temporary name and renamed into place
 * (on S3 the rename is a server-side copy of one object, which appears whole), then
 * {@code latest} is rewritten; a reader that finds {@code latest} missing or pointing at a file
 * that fails verification falls back to the newest file that passes. Retention keeps the newest
 * {@code keep} checkpoints and never deletes the one just written. Storage errors are retried
 * with backoff.
 */
public final class CheckpointStore {
    public static final String LATEST = "latest";
    private static final Pattern NAME = Pattern.compile("ckpt-(\\d+)\\.safetensors");
    private final Configuration conf;
    private final Path dir;
    private final int keep;
    private final Consumer<String> log;
    private final CommitHook hook;
    /** Storage errors: tries per operation, and the first wait (doubled after each try). */
    private static final int ATTEMPTS = 4;
    private static final long BACKOFF_MILLIS = 500;

    public CheckpointStore(Configuration conf, Path dir, int keep, Consumer<String> log) {
        this(conf, dir, keep, log, NO_HOOK);
    }

    /** @param hook runs before each commit rename (fault tests inject failures there) */
    public CheckpointStore(Configuration conf, Path dir, int keep, Consumer<String> log, CommitHook hook) {
        this.conf = conf;
        this.dir = dir;
        this.keep = keep;
        this.log = log;
        this.hook = hook;
    }

    /** Writes the checkpoint bytes. */
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }

    /** Runs before the commit rename. */
    public interface CommitHook {
        void beforeCommit(Path temporary) throws IOException;
    }

    /** The hook of a store without one. */
    public static final CommitHook NO_HOOK = t -> { };

    public Path dir() {
        return dir;
    }

    public static String fileName(long step) {
        return String.format(Locale.ROOT, "ckpt-%010d.safetensors", step);
    }

    /** Writes, commits and points {@code latest} at the checkpoint of {@code step}. */
    public Path save(long step, Writer writer) throws IOException {
        Path target = new Path(dir, fileName(step));
        retry("writing checkpoint " + target, () -> {
            FileSystem fs = dir.getFileSystem(conf);
            fs.mkdirs(dir);
            Path tmp = new Path(dir, "." + fileName(step) + ".tmp-" + UUID.randomUUID());
            try {
                try (OutputStream out = fs.create(tmp, true)) {
                    writer.write(out);
                }
                hook.beforeCommit(tmp);
                if (fs.exists(target)) {
                    fs.delete(target, false);
                }
                if (!fs.rename(tmp, target)) {
                    throw new IOException("rename " + tmp + " -> " + target + " failed");
                }
            } finally {
                if (fs.exists(tmp)) {
                    fs.delete(tmp, false);
                }
            }
            writeLatest(fs, target.getName());
            return null;
        });
        prune(step);
        return target;
    }

    private void writeLatest(FileSystem fs, String name) throws IOException {
        Path latest = new Path(dir, LATEST);
        try (OutputStream out = fs.create(latest, true)) {
            out.write((name + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    /** Checkpoints present, newest first. */
    public List<Path> list() throws IOException {
        FileSystem fs = dir.getFileSystem(conf);
        if (!fs.exists(dir)) {
            return List.of();
        }
        List<FileStatus> all = new ArrayList<>();
        for (FileStatus st : fs.listStatus(dir)) {
            if (NAME.matcher(st.getPath().getName()).matches()) {
                all.add(st);
            }
        }
        all.sort(Comparator.comparingLong((FileStatus st) -> step(st.getPath())).reversed());
        List<Path> out = new ArrayList<>();
        all.forEach(st -> out.add(st.getPath()));
        return out;
    }

    /**
     * The checkpoints to try on resume, best first: the one {@code latest} names, then the
     * others newest first.
     */
    public List<Path> resumeCandidates() throws IOException {
        List<Path> all = new ArrayList<>(list());
        FileSystem fs = dir.getFileSystem(conf);
        Path latest = new Path(dir, LATEST);
        if (fs.exists(latest)) {
            String name;
            try (InputStream in = fs.open(latest)) {
                name = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
            } catch (IOException e) {
                // a pointer damaged by a crash: the checkpoints themselves are verified on load
                log.accept("checkpoint pointer " + latest + " is unreadable (" + e.getMessage()
                        + "); trying the checkpoints newest first");
                return all;
            }
            if (!NAME.matcher(name).matches()) {
                // an empty or partial pointer left by a failed write
                log.accept("checkpoint pointer " + latest + " holds '" + name + "', not a checkpoint name; trying"
                        + " the checkpoints newest first");
                return all;
            }
            Path named = new Path(dir, name);
            if (all.remove(named)) {
                all.add(0, named);
            } else {
                log.accept("checkpoint pointer " + latest + " names " + name + ", which does not exist");
            }
        }
        return all;
    }

    public static long step(Path p) {
        Matcher m = NAME.matcher(p.getName());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    private void prune(long justWritten) {
        try {
            List<Path> all = list();
            FileSystem fs = dir.getFileSystem(conf);
            for (int i = keep; i < all.size(); i++) {
                if (step(all.get(i)) != justWritten) {
                    fs.delete(all.get(i), false);
                }
            }
        } catch (IOException e) {
            log.accept("could not delete old checkpoints in " + dir + ": " + e.getMessage());
        }
    }

    private interface IoAction<T> {
        T run() throws IOException;
    }

    private <T> T retry(String what, IoAction<T> action) throws IOException {
        IOException last = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                return action.run();
            } catch (IOException e) {
                last = e;
                if (attempt < ATTEMPTS) {
                    long wait = BACKOFF_MILLIS << (attempt - 1);
                    log.accept(what + " failed (attempt " + attempt + " of " + ATTEMPTS + "): " + e.getMessage()
                            + "; retrying in " + wait + " ms");
                    try {
                        Thread.sleep(wait);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted while " + what, ie);
                    }
                }
            }
        }
        throw new IOException(what + " failed after " + ATTEMPTS + " attempts: " + last.getMessage(), last);
    }

    /** Loads a checkpoint into the trainer's state; returns the checkpoint's step. */
    @FunctionalInterface
    public interface Restorer {
        long restore(InputStream in, String source) throws IOException;
    }

    /** The checkpoint a training attempt started from ({@code from}), at {@code step}, and why that one. */
    public record Resumed(long step, Path from, String why) {}

    /**
     * The resume policy of a training run, the same on every attempt of it (a stage Spark retries,
     * a job a scheduler resubmits, a finished run submitted again): the newest good checkpoint of
     * the run's own {@code store} wins. Only while the store holds no good checkpoint does the
     * explicit one ({@code --resume}: a file, or a folder whose newest good checkpoint is taken)
     * seed the run; once the run has written a checkpoint of its own, the explicit one is ignored,
     * and the returned {@code why} says so. A damaged or partial file is skipped for the next older
     * one; a storage error fails the attempt instead (Spark retries it), since starting over from
     * an older checkpoint or from the seed would throw work away. Returns null when the run starts
     * from its initialisation.
     *
     * @param store the run's own checkpoints (null: a run without output)
     */
    public static Resumed resume(Configuration conf, CheckpointStore store, String explicit, Restorer restorer,
            Consumer<String> log) throws IOException {
        if (store != null) {
            Resumed own = newestGood(conf, store.resumeCandidates(), restorer, log);
            if (own != null) {
                String why = explicit == null ? "the run's newest good checkpoint"
                        : "the run's own newest good checkpoint; --resume " + explicit + " ignored: it only seeds a run"
                                + " whose output holds no checkpoint yet";
                return new Resumed(own.step(), own.from(), why);
            }
        }
        if (explicit == null) {
            return null;
        }
        Path p = new Path(explicit);
        FileSystem fs = p.getFileSystem(conf);
        List<Path> candidates = fs.getFileStatus(p).isDirectory()
                ? new CheckpointStore(conf, p, Integer.MAX_VALUE, log).resumeCandidates() : List.of(p);
        Resumed seed = newestGood(conf, candidates, restorer, log);
        if (seed == null) {
            throw new IOException("--resume " + explicit + ": " + (candidates.isEmpty() ? "no checkpoint in that folder"
                    : "no checkpoint there passes verification (see the lines above)"));
        }
        String why = (store == null ? "" : store.dir() + " holds no checkpoint yet: ") + "seeded from --resume "
                + explicit;
        return new Resumed(seed.step(), seed.from(), why);
    }

    /** The first of {@code candidates} that restores, skipping damaged files; null when none does. */
    private static Resumed newestGood(Configuration conf, List<Path> candidates, Restorer restorer,
            Consumer<String> log) throws IOException {
        for (Path p : candidates) {
            try (InputStream in = p.getFileSystem(conf).open(p)) {
                return new Resumed(restorer.restore(in, p.toString()), p, null);
            } catch (siameseim.model.io.CorruptFileException | org.apache.hadoop.fs.ChecksumException e) {
                log.accept("skipping checkpoint " + p + ": " + e.getMessage());
            } catch (IOException e) {
                throw new IOException("could not read checkpoint " + p + " (a storage error, not a damaged file): "
                        + e.getMessage(), e);
            }
        }
        return null;
    }

    /**
     * What the driver checks of {@code --resume} before any stage: the file, or a folder with at
     * least one checkpoint, exists. (Each replica verifies the file's contents when it loads it.)
     */
    public static void checkExplicit(Configuration conf, String explicit) throws IOException {
        Path p = new Path(explicit);
        FileSystem fs = p.getFileSystem(conf);
        if (!fs.exists(p)) {
            throw new java.io.FileNotFoundException("--resume " + explicit + ": no such file or folder");
        }
        if (fs.getFileStatus(p).isDirectory()
                && new CheckpointStore(conf, p, Integer.MAX_VALUE, s -> { }).list().isEmpty()) {
            throw new java.io.FileNotFoundException("--resume " + explicit + ": no checkpoint (ckpt-<step>.safetensors)"
                    + " in that folder");
        }
    }
}
