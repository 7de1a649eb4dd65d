package siameseim.host;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Linux CPU affinity of the calling thread ({@code sched_getaffinity} / {@code sched_setaffinity}).
 *
 * <p>Why: a CPU replica's training thread that the kernel moves between CPUs loses its warm L1/L2
 * caches each time. On the 2-vCPU machine the docs measure on, a lone replica whose loader and
 * JVM threads wake on the other CPU migrated often enough to run 5-17 % slower than with its
 * training thread held on one CPU (docs/distributed.md, Thread placement). Java has no API for
 * affinity, so it is one libc call through JNA, which the engine already ships (as
 * {@link IdlePriority}). A thread created by a pinned thread inherits its mask (Linux semantics),
 * which is how PyTorch's OpenMP workers follow the training thread.
 */
public final class CpuAffinity {
    /** cpu_set_t of glibc: 1024 CPUs, as unsigned longs; CPU n is bit n % 64 of word n / 64. */
    private static final int WORDS = 16;

    private interface CLib extends Library {
        // size_t is unsigned long on every Linux ABI, which NativeLong maps
        int sched_getaffinity(int pid, NativeLong size, long[] mask);

        int sched_setaffinity(int pid, NativeLong size, long[] mask);
    }

    private CpuAffinity() {}

    private static CLib libc() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            throw new UnsupportedOperationException("CPU affinity is set on Linux only");
        }
        try {
            return Native.load("c", CLib.class);
        } catch (LinkageError | RuntimeException e) {
            throw new UnsupportedOperationException("libc is not reachable through JNA: " + e, e);
        }
    }

    /**
     * The CPUs the calling thread may run on.
     *
     * @throws UnsupportedOperationException not Linux, libc not loadable, or the call refused
     */
    public static BitSet ofCurrentThread() {
        long[] mask = new long[WORDS];
        // pid 0 = the calling thread
        if (libc().sched_getaffinity(0, new NativeLong(mask.length * 8L), mask) != 0) {
            throw new UnsupportedOperationException("sched_getaffinity failed with errno " + Native.getLastError());
        }
        return BitSet.valueOf(mask);
    }

    /**
     * Restricts the calling thread to {@code cpus}. Returns null when done, else why not (not
     * Linux, libc not loadable, a CPU outside the process's cpuset or beyond 1023); the thread's
     * mask is then unchanged.
     */
    public static String setForCurrentThread(BitSet cpus) {
        // tid 0 = the calling thread
        return setForThread(0, cpus);
    }

    /**
     * Restricts thread {@code tid} (a Linux thread id of this process, as in /proc/self/task) to
     * {@code cpus}; null when done, else why not, as {@link #setForCurrentThread}.
     */
    public static String setForThread(int tid, BitSet cpus) {
        if (cpus.isEmpty() || cpus.length() > WORDS * 64) {
            return "cannot pin to CPUs " + cpus + " (an empty set, or a CPU beyond " + (WORDS * 64 - 1) + ")";
        }
        long[] mask = Arrays.copyOf(cpus.toLongArray(), WORDS);
        try {
            if (libc().sched_setaffinity(tid, new NativeLong(mask.length * 8L), mask) != 0) {
                return "sched_setaffinity(" + (tid == 0 ? "" : "thread " + tid + ", ") + cpus + ") failed with errno "
                        + Native.getLastError();
            }
            return null;
        } catch (UnsupportedOperationException e) {
            return e.getMessage();
        }
    }

    /**
     * Restricts every thread of this process to {@code cpus} (Java, JVM-internal and native ones:
     * the entries of /proc/self/task); threads started later inherit the mask of the thread that
     * starts them. Two passes, for threads started by a not yet restricted thread during the first.
     * Returns null when done, else why not; a thread that ended meanwhile is no failure.
     */
    public static String setForProcess(BitSet cpus) {
        for (int pass = 0; pass < 2; pass++) {
            int[] tids;
            try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
                tids = tasks.mapToInt(t -> Integer.parseInt(t.getFileName().toString())).toArray();
            } catch (IOException | RuntimeException e) {
                return "cannot list this process's threads in /proc/self/task: " + e;
            }
            for (int tid : tids) {
                String refused = setForThread(tid, cpus);
                // ESRCH (3): the thread ended after the listing
                if (refused != null && Files.exists(Path.of("/proc/self/task/" + tid))) {
                    return refused;
                }
            }
        }
        return null;
    }

    /** "0-3,6" style, as Linux prints CPU lists (/proc/self/status, taskset -c). */
    public static String format(BitSet cpus) {
        StringBuilder s = new StringBuilder();
        for (int a = cpus.nextSetBit(0); a >= 0; ) {
            int b = cpus.nextClearBit(a) - 1;
            s.append(s.isEmpty() ? "" : ",").append(a).append(b > a ? "-" + b : "");
            a = cpus.nextSetBit(b + 1);
        }
        return s.toString();
    }
}
