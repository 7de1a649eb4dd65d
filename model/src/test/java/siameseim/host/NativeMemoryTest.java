package siameseim.host;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Library;
import siameseim.model.nn.Torch;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class NativeMemoryTest {
    private interface Glibc extends Library {
        String gnu_get_libc_version();
    }

    @Test
    void glibcKeepsFreedMemoryOnceTheEngineIsLoaded() {
        assumeGlibcDefaults();
        Torch.init();
        assertNull(NativeMemory.keepFreedMemory(), "mallopt applied");
    }

    /**
     * A thread's second round of the same allocations reuses the first round's pages: its
     * arena's 64 MiB heaps are not unmapped when they become free (with a 16 MiB top pad they
     * were, and every page was faulted in again).
     */
    @Test
    void aThreadsFreedHeapsAreReusedWithoutPageFaults() throws Exception {
        assumeGlibcDefaults();
        Torch.init();
        assertNull(NativeMemory.keepFreedMemory(), "mallopt applied");
        long[] faults = new long[2];
        Throwable[] failure = new Throwable[1];
        // a new thread, as a replica's training thread is not the process's main thread
        Thread t = new Thread(() -> {
            try {
                int block = 1 << 20;
                long[] blocks = new long[160]; // 160 MiB: more than two 64 MiB heaps
                for (int round = 0; round < 2; round++) {
                    long before = minorFaults();
                    for (int i = 0; i < blocks.length; i++) {
                        blocks[i] = Native.malloc(block);
                        new Pointer(blocks[i]).setMemory(0, block, (byte) 1);
                    }
                    for (long b : blocks) {
                        Native.free(b);
                    }
                    faults[round] = minorFaults() - before;
                }
            } catch (Throwable e) {
                failure[0] = e;
            }
        }, "native-memory-test");
        t.start();
        t.join();
        assertNull(failure[0]);
        assertTrue(faults[0] > 20_000, "the first round touches 160 MiB of new pages: " + faults[0] + " faults");
        assertTrue(faults[1] < faults[0] / 10, "second round faulted again: " + faults[1] + " faults after "
                + faults[0] + " in the first");
    }

    /** Minor page faults of the calling thread so far. */
    private static long minorFaults() throws IOException {
        String stat = Files.readString(Path.of("/proc/thread-self/stat"));
        return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[7]);
    }

    private static void assumeGlibcDefaults() {
        String glibc;
        try {
            glibc = Native.load("c", Glibc.class).gnu_get_libc_version();
        } catch (LinkageError | RuntimeException e) {
            glibc = null;
        }
        Assumptions.assumeTrue(glibc != null, "needs glibc");
        Assumptions.assumeTrue(System.getenv("MALLOC_MMAP_THRESHOLD_") == null
                && System.getenv("MALLOC_TRIM_THRESHOLD_") == null && System.getenv("MALLOC_TOP_PAD_") == null,
                "the environment sets malloc's thresholds");
    }
}
