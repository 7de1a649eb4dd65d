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
    private final int attempts;
    private final long backoffMillis;

    public CheckpointStore(Configuration conf, Path dir, int keep, Consumer<String> log) {
        this(conf, dir, keep, log, 4, 500);
    }

    public CheckpointStore(Configuration conf, Path dir, int keep, Consumer<String> log, int attempts,
            long backoffMillis) {
        this.conf = conf;
        this.dir = dir;
        this.keep = keep;
        this.log = log;
        this.attempts = attempts;
        this.backoffMillis = backoffMillis;
    }

    /** Writes the checkpoint bytes. */
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }

    /** Runs before the commit rename (tests inject failures here). */
    public interface CommitHook {
        void beforeCommit(Path temporary) throws IOException;
    }

    private CommitHook hook = t -> {};
    private static volatile CommitHook injected;

    /**
     * A hook run before every commit of every store of this JVM (null: none). For fault tests in
     * local mode, where the replicas run in the test's JVM.
     */
    public static void injectBeforeCommit(CommitHook h) {
        injected = h;
    }

    public void setCommitHook(CommitHook hook) {
        this.hook = hook;
    }

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
                CommitHook global = injected;
                if (global != null) {
                    global.beforeCommit(tmp);
                }
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
        for (int attempt = 1; attempt <= attempts; attempt++) {
            try {
                return action.run();
            } catch (IOException e) {
                last = e;
                if (attempt < attempts) {
                    long wait = backoffMillis << (attempt - 1);
                    log.accept(what + " failed (attempt " + attempt + " of " + attempts + "): " + e.getMessage()
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
        throw new IOException(what + " failed after " + attempts + " attempts: " + last.getMessage(), last);
    }

    /** Loads a checkpoint into the trainer's state; returns the checkpoint's step. */
    @FunctionalInterface
    public interface Restorer {
        long restore(InputStream in, String source) throws IOException;
    }

    /**
     * The resume policy of a training run: the explicit checkpoint ({@code --resume}: a file, or a
     * folder whose newest good checkpoint is taken), else the newest good one of {@code store}
     * (null: a run without output). A damaged or partial file is skipped for the next older one; a
     * storage error fails the attempt instead (Spark retries it), since starting over from an older
     * checkpoint or from scratch would throw work away. Returns the step resumed at, or -1.
     */
    public static long resume(Configuration conf, CheckpointStore store, String explicit, Restorer restorer,
            Consumer<String> log) throws IOException {
        if (explicit != null) {
            Path p = new Path(explicit);
            FileSystem fs = p.getFileSystem(conf);
            if (fs.getFileStatus(p).isDirectory()) {
                List<Path> candidates = new CheckpointStore(conf, p, Integer.MAX_VALUE, log).resumeCandidates();
                if (candidates.isEmpty()) {
                    throw new IOException("--resume " + p + ": no checkpoint in that folder");
                }
                p = candidates.get(0);
            }
            try (InputStream in = fs.open(p)) {
                return restorer.restore(in, p.toString());
            }
        }
        if (store == null) {
            return -1;
        }
        for (Path p : store.resumeCandidates()) {
            try (InputStream in = p.getFileSystem(conf).open(p)) {
                long step = restorer.restore(in, p.toString());
                log.accept("resumed from " + p + " at step " + step);
                return step;
            } catch (siameseim.model.io.CorruptFileException | org.apache.hadoop.fs.ChecksumException e) {
                log.accept("skipping checkpoint " + p + ": " + e.getMessage());
            } catch (IOException e) {
                throw new IOException("could not read checkpoint " + p + " (a storage error, not a damaged file): "
                        + e.getMessage(), e);
            }
        }
        return -1;
    }
}
