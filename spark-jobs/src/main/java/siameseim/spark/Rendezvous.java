package siameseim.spark;

import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import org.apache.spark.BarrierTaskContext;
import siameseim.collective.Collective;
import siameseim.collective.Peer;
import siameseim.collective.TcpLink;

/**
 * The only part of the collective that knows Spark: each task of a barrier stage listens on its
 * executor's address, the tasks swap addresses with one {@code allGather}, and connect into an
 * authenticated mesh.
 */
public final class Rendezvous {
    private Rendezvous() {}

    /** The group of this barrier stage's tasks, or null when the stage has one task. */
    public static Collective connect(BarrierTaskContext ctx, String bindHost, byte[] secret, long timeoutMillis,
            Consumer<String> log) throws IOException {
        int rank = ctx.partitionId();
        int n = ctx.getTaskInfos().length;
        String host = bindHost != null ? bindHost : hostOf(ctx.getTaskInfos()[rank].address());
        ServerSocketChannel listener = TcpLink.listen(host);
        Peer me = new Peer(rank, host, listener.socket().getLocalPort());
        List<Peer> peers = new ArrayList<>();
        for (String s : ctx.allGather(me.encode())) {
            peers.add(Peer.decode(s));
        }
        peers.sort(Comparator.comparingInt(Peer::rank));
        if (n == 1) {
            listener.close();
            return null;
        }
        return new Collective(TcpLink.connect(listener, rank, peers, secret, timeoutMillis, log));
    }

    public static String hostOf(String address) {
        int colon = address.lastIndexOf(':');
        return colon > 0 ? address.substring(0, colon) : address;
    }
}
