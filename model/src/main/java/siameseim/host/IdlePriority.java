package siameseim.host;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.util.Locale;

/**
 * Linux's SCHED_IDLE scheduling policy for the calling thread: it runs only on a CPU that no
 * ordinary thread wants.
 *
 * <p>Why: a CPU replica's training thread uses every core the task was given, so its loader
 * thread can only run by taking time from it. Under the normal policy the kernel time-slices the
 * two, which slows the step and, worse, slows each replica at different moments, so the other
 * replicas wait for it at every BatchNorm and gradient exchange. At idle priority the loader runs
 * mostly while the training thread waits (for a peer, or for the batch itself); otherwise the
 * kernel gives it only the minimal share of a SCHED_IDLE task.
 * On 2 cores with 2 replicas the step is about 7 % shorter (docs/distributed.md). Java has
 * no API for this (thread priorities are ignored on Linux), so it is one libc call through JNA,
 * which the engine already ships.
 */
public final class IdlePriority {
    private static final int SCHED_IDLE = 5;

    private interface CLib extends Library {
        int sched_setscheduler(int pid, int policy, int[] param);
    }

    private IdlePriority() {}

    /**
     * Puts the calling thread under SCHED_IDLE. Returns null when done, else why not (not Linux,
     * libc not loadable, the call refused); the thread then keeps its normal priority.
     */
    public static String enterForCurrentThread() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return "SCHED_IDLE exists on Linux only";
        }
        try {
            CLib c = Native.load("c", CLib.class);
            // pid 0 = the calling thread; sched_param.sched_priority must be 0 for SCHED_IDLE
            if (c.sched_setscheduler(0, SCHED_IDLE, new int[] {0}) != 0) {
                return "sched_setscheduler(SCHED_IDLE) failed with errno " + Native.getLastError();
            }
            return null;
        } catch (LinkageError | RuntimeException e) {
            return "libc is not reachable through JNA: " + e;
        }
    }
}
