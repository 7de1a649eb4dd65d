package siameseim.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import siameseim.config.PretrainConfig.PinThreads;
import siameseim.host.CpuAffinity;
import siameseim.datasets.testing.Cpus;

class ThreadPlacementTest {

    static BitSet cpus(int... ids) {
        BitSet s = new BitSet();
        for (int i : ids) {
            s.set(i);
        }
        return s;
    }


    static String training(ThreadPlacement p) {
        return p.pinned() ? CpuAffinity.format(p.training()) : null;
    }

    static String loader(ThreadPlacement p) {
        return p.pinned() ? CpuAffinity.format(p.loader()) : null;
    }

    @Test
    void aLoneReplicaTrainsOnOneCpuAndLoadsOnTheRest() {
        ThreadPlacement p = ThreadPlacement.plan(PinThreads.AUTO, true, List.of("h"), 0, 1, 1, cpus(0, 1));
        assertEquals("0", training(p));
        assertEquals("1", loader(p));
        assertEquals("training threads on CPU 0, loader on CPU 1 (replica 0 of 1 on h)", p.note());
    }

    @Test
    void replicasOfOneHostGetDisjointSlicesInRankOrder() {
        List<String> hosts = List.of("a", "b", "a", "b");
        BitSet allowed = cpus(2, 3, 4, 5, 7);
        // ranks 0 and 2 share host a: 2 threads each, slices 2-3 and 4-5; CPU 7 is spare
        assertEquals("2-3", training(ThreadPlacement.plan(PinThreads.AUTO, true, hosts, 0, 2, 1, allowed)));
        assertEquals("4-5", training(ThreadPlacement.plan(PinThreads.AUTO, true, hosts, 2, 2, 1, allowed)));
        assertEquals("7", loader(ThreadPlacement.plan(PinThreads.AUTO, true, hosts, 2, 2, 1, allowed)));
        assertEquals("4-5", training(ThreadPlacement.plan(PinThreads.AUTO, true, hosts, 3, 2, 1, allowed)));
    }

    @Test
    void whenTheReplicasFillTheHostTheLoaderMayRunAnywhere() {
        List<String> hosts = List.of("h", "h");
        ThreadPlacement second = ThreadPlacement.plan(PinThreads.AUTO, true, hosts, 1, 1, 1, cpus(0, 1));
        assertEquals("1", training(second));
        assertEquals("0-1", loader(second), "at idle priority it fills whichever CPU waits");
    }

    @Test
    void nothingIsPinnedWhenTheCpusDoNotSufficeForGpusOrWhenOff() {
        ThreadPlacement tight = ThreadPlacement.plan(PinThreads.AUTO, true, List.of("h", "h"), 0, 2, 1, cpus(0, 1, 2));
        assertFalse(tight.pinned());
        assertEquals("not pinned: 2 replica(s) x 2 thread(s) on h need 4 CPUs, the executor may use 3 (0-2)",
                tight.note());
        assertFalse(ThreadPlacement.plan(PinThreads.AUTO, false, List.of("h"), 0, 1, 1, cpus(0, 1)).pinned());
        ThreadPlacement off = ThreadPlacement.plan(PinThreads.OFF, true, List.of("h"), 0, 1, 1, cpus(0, 1));
        assertFalse(off.pinned());
        assertTrue(off.note().contains("train.pin-threads = off"), off.note());
        assertNull(off.loaderSetup(false).enter(), "an unpinned loader is left as it is");
    }

    @Test
    void theTrainingThreadIsPinnedUntilClosedAndTheLoaderSetupPlacesWorkers() throws Exception {
        Cpus.assumeLinux();
        BitSet allowed = CpuAffinity.ofCurrentThread();
        Assumptions.assumeTrue(allowed.cardinality() >= 2, "needs 2 CPUs");
        ThreadPlacement p = ThreadPlacement.plan(PinThreads.AUTO, true, List.of("h"), 0, 1, 1);
        int first = allowed.nextSetBit(0);
        assertEquals(Integer.toString(first), training(p));
        String[] seen = new String[3];
        Thread t = new Thread(() -> {
            try (ThreadPlacement.Pin pin = p.pinCurrentThread()) {
                seen[0] = pin.refused() + " " + CpuAffinity.format(CpuAffinity.ofCurrentThread());
                // a loader worker is created by the training thread, then moves to the spare CPUs
                Thread worker = new Thread(() -> seen[1] = p.loaderSetup(true).enter() + " "
                        + CpuAffinity.format(CpuAffinity.ofCurrentThread()));
                worker.start();
                worker.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            seen[2] = CpuAffinity.format(CpuAffinity.ofCurrentThread());
        });
        t.start();
        t.join();
        BitSet rest = (BitSet) allowed.clone();
        rest.clear(first);
        assertEquals("null " + first, seen[0]);
        assertEquals("null " + CpuAffinity.format(rest), seen[1]);
        assertEquals(CpuAffinity.format(allowed), seen[2], "closing gives the (Spark task) thread its mask back");
    }

    @Test
    void confineHoldsTheLoaderOnTheTrainingCpusWhenTheProcessHasOneReplica() {
        ThreadPlacement p = ThreadPlacement.plan(PinThreads.CONFINE, true, List.of("h", "h"), 1, 1, 1, cpus(0, 1, 2));
        assertTrue(p.confine());
        assertEquals("1", training(p));
        assertEquals("1", loader(p));
        assertEquals("training threads and every other thread of the executor on CPU 1 (replica 1 of 2 on h,"
                + " train.pin-threads = confine)", p.note());
        ThreadPlacement shared = ThreadPlacement.plan(PinThreads.CONFINE, true, List.of("h", "h"), 1, 1, 2,
                cpus(0, 1, 2));
        assertFalse(shared.confine());
        assertEquals("1", training(shared));
        assertEquals("2", loader(shared));
        assertTrue(shared.note().endsWith("; not confined: 2 replicas share this executor process"), shared.note());
        assertFalse(ThreadPlacement.plan(PinThreads.CONFINE, false, List.of("h"), 0, 1, 1, cpus(0, 1)).pinned());
    }

    /** The CPUs thread {@code tid} of this process may use, from /proc. */
    static String cpusOf(long tid) throws Exception {
        return Cpus.kernelCpuList(Path.of("/proc/self/task/" + tid));
    }

    /** The calling thread's Linux thread id. */
    static long tid() throws Exception {
        return Long.parseLong(Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString());
    }

    @Test
    void confiningHoldsEveryThreadOfTheProcessUntilClosed() throws Exception {
        Cpus.assumeLinux();
        BitSet allowed = CpuAffinity.ofCurrentThread();
        Assumptions.assumeTrue(allowed.cardinality() >= 2, "needs 2 CPUs");
        ThreadPlacement p = ThreadPlacement.plan(PinThreads.CONFINE, true, List.of("h", "h"), 1, 1, 1, allowed);
        String second = Integer.toString(Cpus.nth(allowed, 1));
        CountDownLatch done = new CountDownLatch(1);
        long[] bystander = new long[1];
        CountDownLatch started = new CountDownLatch(1);
        // a thread the replica did not start (as Spark's, the JVM's and the collective's)
        Thread other = new Thread(() -> {
            try {
                bystander[0] = tid();
                started.countDown();
                done.await();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        other.start();
        started.await();
        String[] seen = new String[3];
        Thread t = new Thread(() -> {
            try (ThreadPlacement.Pin pin = p.pinCurrentThread()) {
                seen[0] = pin.refused() + " " + cpusOf(tid()) + " " + cpusOf(bystander[0]);
                Thread worker = new Thread(() -> {
                    try {
                        seen[1] = p.loaderSetup(true).enter() + " " + cpusOf(tid());
                    } catch (Exception e) {
                        seen[1] = e.toString();
                    }
                });
                worker.start();
                worker.join();
            } catch (Exception e) {
                seen[0] = e.toString();
            }
            try {
                seen[2] = cpusOf(tid()) + " " + cpusOf(bystander[0]);
            } catch (Exception e) {
                seen[2] = e.toString();
            }
        });
        t.start();
        t.join();
        done.countDown();
        other.join();
        String all = CpuAffinity.format(allowed);
        assertEquals("null " + second + " " + second, seen[0], "the training thread and a bystander thread");
        assertEquals("null " + second, seen[1], "the loader stays on the training CPU");
        assertEquals(all + " " + all, seen[2], "closing gives every thread the earlier mask back");
    }
}
