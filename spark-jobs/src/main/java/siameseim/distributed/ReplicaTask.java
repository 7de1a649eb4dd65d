package siameseim.distributed;

import ai.djl.Device;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.BarrierTaskContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import siameseim.collective.Collective;
import siameseim.config.PretrainConfig;
import siameseim.datasets.loader.ShardSource;
import siameseim.events.Summary;
import siameseim.model.nn.Torch;
import siameseim.train.PrecisionCheck;
import siameseim.train.Schedule;
import siameseim.spark.Barrier;
import siameseim.spark.Rendezvous;
import siameseim.spark.SparkSessions;

/**
 * What runs in each task of the barrier stage: rendezvous through {@code allGather} (only to swap
 * listener addresses; {@code barrier()} costs a second and is called once, at the end), the
 * authenticated collective, the replica's device and data, then {@link ReplicaLoop} with the job
 * the run's {@link TrainingKind} builds.
 */
final class ReplicaTask implements Barrier.PartitionFunction<Integer, Summary> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger("siameseim.distributed");
    /**
     * Replica tasks running in this JVM: counted before the rendezvous, whose all-gather returns
     * only once every task of the stage has started, so after it the count includes every replica
     * of this process (local mode runs them all in one; local-cluster and real clusters one each).
     */
    private static final AtomicInteger IN_PROCESS = new AtomicInteger();

    private final TrainingKind kind;
    private final PretrainConfig cfg;
    private final Map<String, String> hadoop;
    private final byte[] secret;
    private final ProgressChannel.Address progress;
    private final String resume;

    ReplicaTask(TrainingKind kind, PretrainConfig cfg, Map<String, String> hadoop, byte[] secret,
            ProgressChannel.Address progress, String resume) {
        this.kind = kind;
        this.cfg = cfg;
        this.hadoop = hadoop;
        this.secret = secret;
        this.progress = progress;
        this.resume = resume;
    }

    @Override
    public Iterator<Summary> call(Iterator<Integer> in) throws Exception {
        BarrierTaskContext ctx = BarrierTaskContext.get();
        int rank = ctx.partitionId();
        int n = ctx.getTaskInfos().length;
        LOG.info("replica {} of {} (stage attempt {})", rank, n, ctx.stageAttemptNumber());
        Configuration conf = SparkSessions.rebuild(hadoop);
        IN_PROCESS.incrementAndGet();
        try (Collective collective = Rendezvous.connect(ctx, cfg.distributed().bindHost(), secret,
                cfg.distributed().timeoutMillis(), LOG::warn);
                ProgressChannel.Reporter reporter = rank == 0 ? new ProgressChannel.Reporter(progress, secret, LOG::warn)
                        : null) {
            Device device = siameseim.spark.TaskDevice.of(ctx);
            if (device.isGpu()) {
                Torch.allowTf32(cfg.train().tf32());
            }
            // after the rendezvous: threads the collective started keep floating over every CPU
            ThreadPlacement placement = ThreadPlacement.plan(cfg.train().pinThreads(), !device.isGpu(),
                    hosts(ctx), rank, cfg.train().threads(), IN_PROCESS.get());
            Summary s;
            try (ThreadPlacement.Pin pin = placement.pinCurrentThread()) {
                if (pin.refused() != null) {
                    LOG.warn("replica {}: threads not pinned ({})", rank, pin.refused());
                    placement = ThreadPlacement.none(pin.refused());
                } else {
                    LOG.info("replica {}: {}", rank, placement.note());
                }
                Torch.init(cfg.train().threads());
                PrecisionCheck.Choice precision = PrecisionCheck.choose(cfg, device);
                LOG.info("replica {}: {}", rank, precision.note());
                ReplicaLoop.Context rc = new ReplicaLoop.Context(kind, cfg, rank, n, collective, conf, resume, device,
                        precision, placement, reporter == null ? line -> { } : reporter::send, LOG::warn, LOG::info);
                ShardSource train = TrainingData.split(cfg, conf, kind.trainSplit(cfg), cfg.data().subset());
                Schedule schedule = kind.schedule(cfg, train.size());
                try (ReplicaLoop.Job<?> job = kind.replica(rc, schedule)) {
                    s = ReplicaLoop.run(rc, train, schedule, job);
                }
            }
            ctx.barrier();
            return java.util.List.of(s).iterator();
        } finally {
            IN_PROCESS.decrementAndGet();
        }
    }

    /** The host of every rank's executor, in rank order. */
    static java.util.List<String> hosts(BarrierTaskContext ctx) {
        java.util.List<String> hosts = new java.util.ArrayList<>();
        for (org.apache.spark.BarrierTaskInfo t : ctx.getTaskInfos()) {
            hosts.add(Rendezvous.hostOf(t.address()));
        }
        return hosts;
    }
}
