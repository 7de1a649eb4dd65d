package siameseim.collective;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.function.Consumer;

/**
 * Shared memory between ranks on one host (local-cluster, or several executors on one multi-GPU
 * node): one mapped region of {@code /dev/shm} per rank, which every rank reads and writes. One
 * set holds the {@link SharedMemoryLink}'s rings, another the buffers {@link
 * SharedMemoryAllReduce} sums through.
 *
 * <p>Set-up proves that the ranks share memory: rank 0 draws a random id, every rank creates
 * {@code /dev/shm/siameseim-<id>-<rank>-<generation>} (mode 0600) with a header naming the id and
 * its rank, and every rank must open and verify every other rank's file; if any rank cannot
 * (another host, no {@code /dev/shm}, too little space) all of them keep using TCP. Once all
 * regions are mapped the files are unlinked, so a killed process leaves nothing behind (the
 * mappings live until the processes end). A larger buffer later maps a new generation.
 *
 * <p>Visibility between processes relies on the link between an algorithm's phases: a system call
 * on both sides over TCP, a release store and an acquire load of a ring's counter over the
 * {@link SharedMemoryLink}; either orders the plain stores and loads to the mappings.
 */
final class SharedRegions implements AutoCloseable {
    static final Path DIR = Path.of("/dev/shm");
    static final int HEADER = 64;
    private static final long MAGIC = 0x5349414d53484d31L; // "SIAMSHM1"

    private final Collective c;
    private final Path dir;
    private final String id;
    private final Consumer<String> log;
    private int generation;
    private long capacity;
    private MappedByteBuffer[] regions;

    private SharedRegions(Collective c, Path dir, String id, Consumer<String> log) {
        this.c = c;
        this.dir = dir;
        this.id = id;
        this.log = log;
    }

    /**
     * Agrees with every rank on a shared-memory path for buffers of {@code bytes}; null (on every
     * rank) when one of them cannot use it.
     */
    static SharedRegions open(Collective c, long bytes, Consumer<String> log, boolean enabled, Path dir) {
        ByteBuffer token = ByteBuffer.allocate(16);
        if (c.rank() == 0) {
            byte[] r = new byte[16];
            new SecureRandom().nextBytes(r);
            token.put(r).flip();
        }
        c.broadcast(token, 0);
        SharedRegions shm = new SharedRegions(c, dir, HexFormat.of().formatHex(token.array()), log);
        return shm.map(bytes, enabled ? null : "turned off on rank " + c.rank()) ? shm : null;
    }

    /**
     * Maps regions of at least {@code bytes}; false (on every rank) when a rank could not or
     * {@code refuse} is given (a rank with shared memory turned off still takes part in the vote).
     */
    private boolean map(long bytes, String refuse) {
        int n = c.size();
        int me = c.rank();
        long size = HEADER + ((bytes + 4095) & ~4095L);
        generation++;
        Path mine = file(me);
        MappedByteBuffer[] next = new MappedByteBuffer[n];
        String problem = refuse;
        try {
            if (problem != null) {
                // voting no
            } else if (size > Integer.MAX_VALUE || !Files.isDirectory(dir) || Files.getFileStore(dir).getUsableSpace()
                    < 2 * size) {
                problem = size > Integer.MAX_VALUE ? "buffer above 2 GiB" : "no room in " + dir;
            } else {
                Files.deleteIfExists(mine);
                Files.createFile(mine, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                next[me] = mapFile(mine, size);
                next[me].putLong(0, MAGIC).putInt(8, me).put(16, HexFormat.of().parseHex(id));
            }
        } catch (IOException | RuntimeException e) {
            problem = "cannot create " + mine + ": " + e.getMessage();
        }
        if (!agree(problem == null)) {
            return fail(next, mine, problem);
        }
        for (int p = 0; p < n && problem == null; p++) {
            if (p == me) {
                continue;
            }
            try {
                next[p] = mapExisting(file(p), size);
                byte[] theirs = new byte[16];
                next[p].get(16, theirs);
                if (next[p].getLong(0) != MAGIC || next[p].getInt(8) != p
                        || !HexFormat.of().formatHex(theirs).equals(id)) {
                    problem = file(p) + " is not rank " + p + "'s region";
                }
            } catch (IOException | RuntimeException e) {
                problem = "rank " + p + "'s region is not visible here (" + e.getMessage() + ")";
            }
        }
        if (!agree(problem == null)) {
            return fail(next, mine, problem);
        }
        try {
            Files.deleteIfExists(mine); // every rank has mapped it
        } catch (IOException e) {
            log.accept("could not unlink " + mine + ": " + e.getMessage());
        }
        regions = next;
        capacity = size - HEADER;
        return true;
    }

    private boolean fail(MappedByteBuffer[] next, Path mine, String problem) {
        try {
            Files.deleteIfExists(mine);
        } catch (IOException e) {
            // nothing mapped it
        }
        log.accept("rank " + c.rank() + ": TCP between the ranks, not shared memory"
                + (problem != null ? ": " + problem : " (another rank cannot use it)"));
        return false;
    }

    /** True when every rank says true. */
    private boolean agree(boolean ok) {
        for (long v : c.allGather(ok ? 1L : 0L)) {
            if (v == 0) {
                return false;
            }
        }
        return true;
    }

    private Path file(int rank) {
        return dir.resolve("siameseim-" + id + "-" + rank + "-" + generation);
    }

    /** Maps another rank's region; never creates a file (on another host there is none). */
    private static MappedByteBuffer mapExisting(Path f, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(f, java.nio.file.StandardOpenOption.READ,
                java.nio.file.StandardOpenOption.WRITE)) {
            if (ch.size() < size) {
                throw new IOException(f + " has " + ch.size() + " bytes, expected " + size);
            }
            MappedByteBuffer m = ch.map(FileChannel.MapMode.READ_WRITE, 0, size);
            m.order(ByteOrder.nativeOrder());
            return m;
        }
    }

    private static MappedByteBuffer mapFile(Path f, long size) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw");
                FileChannel ch = raf.getChannel()) {
            if (ch.size() < size) {
                raf.setLength(size);
            }
            MappedByteBuffer m = ch.map(FileChannel.MapMode.READ_WRITE, 0, size);
            m.order(ByteOrder.nativeOrder());
            return m;
        }
    }


    /**
     * Regions of at least {@code bytes} (a new generation when the current ones are smaller);
     * false on every rank, and unusable from now on, when a rank could not map them. The ranks
     * synchronise here only when they map (their votes); otherwise it returns at once.
     */
    boolean ensure(long bytes) {
        if (bytes > capacity && !map(bytes, null)) {
            regions = null;
            return false;
        }
        return true;
    }

    /** Rank {@code rank}'s region, its data from byte {@link #HEADER} on. */
    ByteBuffer region(int rank) {
        return regions[rank];
    }

    @Override
    public void close() {
        regions = null; // the mappings go with the garbage collector or the process
    }
}
