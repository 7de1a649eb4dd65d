package siameseim.distributed;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.io.Serializable;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import siameseim.collective.Collective;
import siameseim.collective.Peer;
import siameseim.collective.Transport;
import siameseim.config.ConfigLoader;
import siameseim.config.PretrainConfig;
import siameseim.datasets.loader.SampleSource;
import siameseim.datasets.loader.ShardSource;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.SubsetManifest;
import siameseim.spark.Barrier;
import siameseim.spark.SparkSessions;

/**
 * What runs in each task of the barrier stage: rendezvous through {@code allGather} (only to swap
 * listener addresses; {@code barrier()} costs a second and is called once, at the end), the
 * authenticated collective, the replica's device and data, then {@link ReplicaTrainer}.
 */
final class ReplicaTask implements Barrier.PartitionFunction<Integer, ReplicaTrainer.Summary> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger("siameseim.distributed");

    private final String configJson;
    private final Map<String, String> hadoop;
    private final byte[] secret;
    private final ProgressChannel.Address progress;
    private final String resume;

    ReplicaTask(String configJson, Map<String, String> hadoop, byte[] secret, ProgressChannel.Address progress,
            String resume) {
        this.configJson = configJson;
        this.hadoop = hadoop;
        this.secret = secret;
        this.progress = progress;
        this.resume = resume;
    }

    @Override
    public Iterator<ReplicaTrainer.Summary> call(Iterator<Integer> in) throws Exception {
        BarrierTaskContext ctx = BarrierTaskContext.get();
        int rank = ctx.partitionId();
        int n = ctx.getTaskInfos().length;
        PretrainConfig cfg = PretrainConfig.from(ConfigLoader.fromJson(configJson));
        String host = cfg.distributed().bindHost() != null ? cfg.distributed().bindHost()
                : hostOf(ctx.getTaskInfos()[rank].address());
        ServerSocketChannel listener = Transport.listen(host);
        Peer me = new Peer(rank, host, listener.socket().getLocalPort());
        List<Peer> peers = new ArrayList<>();
        for (String s : ctx.allGather(me.encode())) {
            peers.add(Peer.decode(s));
        }
        peers.sort(Comparator.comparingInt(Peer::rank));
        LOG.info("replica {} of {} on {}:{} (attempt {})", rank, n, host, me.port(), ctx.stageAttemptNumber());
        Configuration conf = SparkSessions.rebuild(hadoop);
        try (Collective collective = n > 1 ? new Collective(Transport.connect(listener, rank, peers, secret,
                cfg.distributed().timeoutMillis(), LOG::warn)) : null;
                ProgressChannel.Reporter reporter = rank == 0 ? new ProgressChannel.Reporter(progress, secret, LOG::warn)
                        : null) {
            if (collective == null) {
                listener.close();
            }
            ReplicaTrainer.Context rc = new ReplicaTrainer.Context(cfg, rank, n, collective, conf, resume,
                    device(ctx), reporter == null ? line -> { } : reporter::send, LOG::warn);
            ReplicaTrainer.Summary s = ReplicaTrainer.run(rc, data(cfg, conf));
            ctx.barrier();
            return List.of(s).iterator();
        }
    }

    /** The replica's data: the configured split (or subset) of the prepared dataset. */
    static SampleSource data(PretrainConfig cfg, Configuration conf) throws java.io.IOException {
        Path root = new Path(cfg.data().path());
        Manifest m = Manifest.read(conf, root);
        long[][] rows = cfg.data().subset() == null ? null
                : SubsetManifest.read(conf, new Path(cfg.data().subset())).rows();
        return new ShardSource(conf, root, m, cfg.data().split(), rows, cfg.data().shuffleWindow(),
                cfg.data().readAhead());
    }

    /** The GPU Spark assigned to this task (spark.task.resource.gpu.amount), else the CPU. */
    static Device device(BarrierTaskContext ctx) {
        ResourceInformation gpu = ctx.resources().get("gpu").getOrElse(() -> null);
        if (gpu != null && gpu.addresses().length > 0 && Engine.getEngine("PyTorch").getGpuCount() > 0) {
            return Device.gpu(Integer.parseInt(gpu.addresses()[0]));
        }
        return Device.cpu();
    }

    static String hostOf(String address) {
        int colon = address.lastIndexOf(':');
        return colon > 0 ? address.substring(0, colon) : address;
    }
}
