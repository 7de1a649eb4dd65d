package siameseim.host;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.util.Locale;

/**
 * glibc's malloc settings for libtorch's CPU tensors, set once per process.
 *
 * <p>Why: with glibc's defaults, blocks above the (dynamic) mmap threshold get fresh pages from
 * the kernel on every allocation and go back on free, and the heap top is trimmed as soon as
 * 128 KiB are free, so the megabyte activations of every training step were faulted in anew: a
 * replica's training thread took 28-33 thousand minor page faults per second and spent 4.4-5.1 %
 * of its time in the kernel. Keeping freed memory (mmap threshold 32 MiB, glibc's maximum; trim
 * threshold 256 MiB) cuts the faults and the kernel time to a few per cent of that
 * (docs/distributed.md, "Throughput and scaling"). This is what PyTorch's own CPU tuning guide gets from jemalloc or
 * tcmalloc, here with no library to install. Tensors above 32 MiB are still mapped per
 * allocation. A user's own {@code MALLOC_*_} environment settings win: nothing is changed then.
 *
 * <p>The top pad is 64 MiB, the size of one heap of a thread's arena: a training thread (not
 * the process's main thread) allocates from its own arena, made of 64 MiB heaps, and glibc's
 * {@code heap_trim} unmaps a heap that has become entirely free unless the free room left in the
 * heap before it is smaller than the top pad. With a 16 MiB pad, whether a step's last heap was
 * unmapped depended on where its tensors happened to land: 1 to 16 thousand faults per second
 * from one run to the next of the same one-replica training; with 64 MiB no heap is unmapped
 * and the faults stay low and steady. The pad reserves address
 * space, not memory: pages are committed when first touched.
 */
public final class NativeMemory {
    private static final int M_TRIM_THRESHOLD = -1;
    private static final int M_TOP_PAD = -2;
    private static final int M_MMAP_THRESHOLD = -3;
    static final int MMAP_THRESHOLD = 32 << 20;
    static final int TRIM_THRESHOLD = 256 << 20;
    static final int TOP_PAD = 64 << 20;

    private interface CLib extends Library {
        int mallopt(int param, int value);
    }

    private NativeMemory() {}

    /**
     * Applies the settings once per process; returns null when they are in effect, else why not
     * (not Linux/glibc, or the user's environment sets malloc's thresholds).
     */
    public static String keepFreedMemory() {
        return Once.OUTCOME;
    }

    /** Applied on first use, once (class initialisation is lazy and thread-safe). */
    private static final class Once {
        static final String OUTCOME = apply();
    }

    private static String apply() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return "malloc settings are for Linux (glibc) only";
        }
        for (String v : new String[] {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_"}) {
            if (System.getenv(v) != null) {
                return "the environment sets " + v;
            }
        }
        try {
            CLib c = Native.load("c", CLib.class);
            // mallopt returns 1 on success, 0 on error
            if (c.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) != 1 || c.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) != 1
                    || c.mallopt(M_TOP_PAD, TOP_PAD) != 1) {
                return "mallopt refused the settings";
            }
            return null;
        } catch (LinkageError | RuntimeException e) {
            // musl and other C libraries have no mallopt
            return "no glibc mallopt: " + e.getMessage();
        }
    }
}
