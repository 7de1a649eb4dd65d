package siameseim.collective;

import java.io.Serializable;

/** Where a rank listens. */
public record Peer(int rank, String host, int port) implements Serializable {
    @Override
    public String toString() {
        return "rank " + rank + " (" + host + ":" + port + ")";
    }

    /** "rank:host:port", the form exchanged at rendezvous. */
    public String encode() {
        return rank + ":" + host + ":" + port;
    }

    public static Peer decode(String s) {
        int a = s.indexOf(':');
        int b = s.lastIndexOf(':');
        return new Peer(Integer.parseInt(s.substring(0, a)), s.substring(a + 1, b), Integer.parseInt(s.substring(b + 1)));
    }
}
