package siameseim.model.nn;

import static org.junit.jupiter.api.Assertions.assertNull;

import com.sun.jna.Library;
import com.sun.jna.Native;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class NativeMemoryTest {
    private interface Glibc extends Library {
        String gnu_get_libc_version();
    }

    @Test
    void glibcKeepsFreedMemoryOnceTheEngineIsLoaded() {
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
        Torch.init();
        assertNull(NativeMemory.keepFreedMemory(), "mallopt applied on glibc " + glibc);
    }
}
