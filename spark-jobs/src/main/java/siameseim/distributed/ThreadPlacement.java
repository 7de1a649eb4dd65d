package siameseim.distributed;

import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import siameseim.config.PretrainConfig.PinThreads;
import siameseim.datasets.loader.BatchLoader;
import siameseim.host.CpuAffinity;
import siameseim.host.IdlePriority;

/**
 * Which CPUs a CPU replica's threads run on (train.pin-threads).
 *
 * <p>The replicas of one host take consecutive, disjoint slices of the CPUs the executor may use,
 * {@code train.threads} each, in rank order; the training thread is held on its slice (its
 * OpenMP workers, created by it, inherit the mask). The loader threads get the CPUs no replica
 * of the host trains on, or, when there are none, every CPU the executor may use, where at idle
 * priority they fill whichever CPU waits. Without this, a lone replica on 2 CPUs ran 5-17 %
 * slower: the kernel moved its training thread to the CPU its loader had just left, and the
 * caches went cold each time; two replicas, each owning a CPU, lost little, so the scaling
 * benchmark flattered the pair (docs/distributed.md, "Thread placement").
 *
 * <p>With train.pin-threads = confine, every other thread of the executor process (loader, JVM,
 * Spark, the collective's) is held on the training CPUs as well, as if the executor ran in a
 * container granted {@code train.threads} CPUs: nothing of the replica spills onto CPUs it was
 * not given, which a host shared with other jobs wants (a lone replica so confined ran as fast
 * as one whose loader had a CPU of its own: docs/distributed.md). It needs one replica per
 * executor process (a JVM of several replicas cannot hold its shared threads on one replica's
 * CPUs); with more, the replicas are pinned as with auto, and the note says so.
 *
 * <p>Nothing is pinned for a GPU replica, with train.pin-threads = off, or when the host's
 * replicas need more CPUs than the executor may use (the kernel then shares them better than a
 * fixed mapping would).
 *
 * @param training the training thread's CPUs, or null to leave every thread as it is
 * @param loader the loader threads' CPUs (null when training is)
 * @param confine whether every thread of the process is held on the training CPUs
 * @param note what was decided and why, for the replica's log
 */
public record ThreadPlacement(BitSet training, BitSet loader, boolean confine, String note) {

    /**
     * @param hostsByRank the host of every rank (the barrier tasks' executor addresses)
     * @param replicasInProcess how many replicas this executor process runs
     * @param allowed the CPUs this process may use (its affinity mask)
     */
    static ThreadPlacement plan(PinThreads mode, boolean cpuReplica, List<String> hostsByRank, int rank, int threads,
            int replicasInProcess, BitSet allowed) {
        if (mode == PinThreads.OFF) {
            return none("train.pin-threads = off: the kernel places the threads");
        }
        if (!cpuReplica) {
            return none("a GPU replica: threads not pinned");
        }
        String host = hostsByRank.get(rank);
        int local = 0;
        int onHost = 0;
        for (int r = 0; r < hostsByRank.size(); r++) {
            if (hostsByRank.get(r).equals(host)) {
                local += r < rank ? 1 : 0;
                onHost++;
            }
        }
        int need = onHost * threads;
        if (allowed.cardinality() < need) {
            return none(String.format(Locale.ROOT,
                    "not pinned: %d replica(s) x %d thread(s) on %s need %d CPUs, the executor may use %d (%s)",
                    onHost, threads, host, need, allowed.cardinality(), CpuAffinity.format(allowed)));
        }
        BitSet training = new BitSet();
        BitSet spare = (BitSet) allowed.clone();
        int i = 0;
        for (int cpu = allowed.nextSetBit(0); cpu >= 0; cpu = allowed.nextSetBit(cpu + 1), i++) {
            if (i < need) {
                spare.clear(cpu);
            }
            if (i >= local * threads && i < (local + 1) * threads) {
                training.set(cpu);
            }
        }
        String where = String.format(Locale.ROOT, "replica %d of %d on %s", local, onHost, host);
        if (mode == PinThreads.CONFINE && replicasInProcess == 1) {
            return new ThreadPlacement(training, training, true, String.format(Locale.ROOT,
                    "training threads and every other thread of the executor on CPU %s (%s, train.pin-threads ="
                            + " confine)", CpuAffinity.format(training), where));
        }
        String unconfined = mode == PinThreads.CONFINE ? "; not confined: " + replicasInProcess
                + " replicas share this executor process" : "";
        BitSet loader = spare.isEmpty() ? (BitSet) allowed.clone() : spare;
        return new ThreadPlacement(training, loader, false, String.format(Locale.ROOT,
                "training threads on CPU %s, loader on CPU %s (%s)%s", CpuAffinity.format(training),
                CpuAffinity.format(loader), where, unconfined));
    }

    /** The plan for the calling thread's process; unpinned, with the reason, where affinity is unreadable. */
    static ThreadPlacement plan(PinThreads mode, boolean cpuReplica, List<String> hostsByRank, int rank, int threads,
            int replicasInProcess) {
        if (mode == PinThreads.OFF || !cpuReplica) {
            return plan(mode, cpuReplica, hostsByRank, rank, threads, replicasInProcess, new BitSet());
        }
        try {
            return plan(mode, cpuReplica, hostsByRank, rank, threads, replicasInProcess,
                    CpuAffinity.ofCurrentThread());
        } catch (UnsupportedOperationException e) {
            return none("not pinned: " + e.getMessage());
        }
    }

    /** Nothing pinned, for the given reason. */
    static ThreadPlacement none(String why) {
        return new ThreadPlacement(null, null, false, why);
    }

    /** Whether anything is pinned. */
    public boolean pinned() {
        return training != null;
    }

    /**
     * Holds the calling (training) thread, and with {@link #confine} every thread of the process,
     * on the training CPUs until the returned pin is closed, which gives them back the calling
     * thread's earlier mask (Spark reuses task threads and executors). {@link Pin#refused()} says
     * why the pin was refused; nothing stays changed then.
     */
    Pin pinCurrentThread() {
        if (!pinned()) {
            return new Pin(null, false, null);
        }
        BitSet before;
        try {
            before = CpuAffinity.ofCurrentThread();
        } catch (UnsupportedOperationException e) {
            return new Pin(null, false, e.getMessage());
        }
        String refused = confine ? CpuAffinity.setForProcess(training) : CpuAffinity.setForCurrentThread(training);
        if (refused != null && confine) {
            CpuAffinity.setForProcess(before);
        }
        return new Pin(refused == null ? before : null, confine, refused);
    }

    /** The loader workers' placement: idle priority when asked, then this plan's loader CPUs. */
    public BatchLoader.WorkerSetup loaderSetup(boolean idle) {
        BatchLoader.WorkerSetup priority = idle ? IdlePriority::enterForCurrentThread
                : BatchLoader.WorkerSetup.NONE;
        return loader == null ? priority : priority.andThen(() -> CpuAffinity.setForCurrentThread(loader));
    }

    /**
     * A pinned training thread (or, {@code process}, a confined process); closing restores the
     * earlier mask. {@code refused}: why not pinned.
     */
    record Pin(BitSet restore, boolean process, String refused) implements AutoCloseable {
        @Override
        public void close() {
            if (restore != null) {
                if (process) {
                    CpuAffinity.setForProcess(restore);
                } else {
                    CpuAffinity.setForCurrentThread(restore);
                }
            }
        }
    }
}
