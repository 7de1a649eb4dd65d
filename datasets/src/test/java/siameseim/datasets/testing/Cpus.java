package siameseim.datasets.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import org.junit.jupiter.api.Assumptions;

/** What the kernel says about threads' CPUs, for the thread placement tests. */
public final class Cpus {
    private Cpus() {}

    /** The kernel's view of the calling thread's CPUs (/proc/thread-self/status). */
    public static String kernelCpuList() throws IOException {
        return kernelCpuList(Path.of("/proc/thread-self"));
    }

    /** The kernel's view of a thread's CPUs: {@code task} is its /proc directory (/proc/self/task/TID). */
    public static String kernelCpuList(Path task) throws IOException {
        for (String line : Files.readAllLines(task.resolve("status"))) {
            if (line.startsWith("Cpus_allowed_list:")) {
                return line.substring(line.indexOf(':') + 1).trim();
            }
        }
        throw new IllegalStateException("no Cpus_allowed_list in " + task.resolve("status"));
    }

    /** Skips the calling test where threads have no /proc entries (not Linux). */
    public static void assumeLinux() {
        Assumptions.assumeTrue(Files.exists(Path.of("/proc/thread-self/status")), "needs Linux");
    }

    /** The {@code n}-th CPU of a set, in ascending order. */
    public static int nth(BitSet cpus, int n) {
        return cpus.stream().skip(n).findFirst().orElseThrow();
    }
}
