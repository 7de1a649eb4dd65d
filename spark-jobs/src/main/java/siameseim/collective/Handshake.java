package siameseim.collective;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Mutual HMAC-SHA256 challenge-response over a fresh connection: each side proves it knows the
 * run's secret without sending it. A connection that fails (wrong magic, wrong MAC, short
 * read) is closed and does not take a peer's place.
 *
 * <pre>
 *   client -> server: MAGIC, version, client rank, client nonce (32)
 *   server -> client: server nonce (32), HMAC(secret, "S" | client nonce | server nonce)
 *   client -> server: HMAC(secret, "C" | rank | client nonce | server nonce)
 *   server -> client: 1 byte OK
 * </pre>
 */
public final class Handshake {
    static final int MAGIC = 0x53494D43; // "SIMC"
    static final byte VERSION = 1;
    private static final int NONCE = 32;
    private static final int MAC = 32;
    private static final SecureRandom RANDOM = new SecureRandom();

    private Handshake() {}

    /** Client side; returns normally only when the server proved the secret. */
    public static void client(SocketChannel ch, int myRank, byte[] secret) throws IOException {
        byte[] cn = nonce();
        ByteBuffer hello = ByteBuffer.allocate(4 + 1 + 4 + NONCE);
        hello.putInt(MAGIC).put(VERSION).putInt(myRank).put(cn).flip();
        Io.writeFully(ch, hello);
        ByteBuffer reply = Io.readFully(ch, NONCE + MAC);
        byte[] sn = new byte[NONCE];
        byte[] smac = new byte[MAC];
        reply.get(sn).get(smac);
        if (!MessageDigest.isEqual(smac, mac(secret, (byte) 'S', -1, cn, sn))) {
            throw new IOException("the peer failed to prove the run's secret");
        }
        Io.writeFully(ch, ByteBuffer.wrap(mac(secret, (byte) 'C', myRank, cn, sn)));
        ByteBuffer ok = Io.readFully(ch, 1);
        if (ok.get() != 1) {
            throw new IOException("the peer refused the connection");
        }
    }

    /** Server side; returns the authenticated client's rank. */
    public static int server(SocketChannel ch, byte[] secret) throws IOException {
        ByteBuffer hello = Io.readFully(ch, 4 + 1 + 4 + NONCE);
        int magic = hello.getInt();
        byte version = hello.get();
        if (magic != MAGIC) {
            throw new IOException("not a siameseim collective client (bad magic)");
        }
        if (version != VERSION) {
            throw new IOException("collective protocol version " + version + ", expected " + VERSION);
        }
        int rank = hello.getInt();
        byte[] cn = new byte[NONCE];
        hello.get(cn);
        byte[] sn = nonce();
        ByteBuffer reply = ByteBuffer.allocate(NONCE + MAC);
        reply.put(sn).put(mac(secret, (byte) 'S', -1, cn, sn)).flip();
        Io.writeFully(ch, reply);
        ByteBuffer cmac = Io.readFully(ch, MAC);
        byte[] got = new byte[MAC];
        cmac.get(got);
        if (!MessageDigest.isEqual(got, mac(secret, (byte) 'C', rank, cn, sn))) {
            throw new IOException("authentication failed");
        }
        Io.writeFully(ch, ByteBuffer.wrap(new byte[] {1}));
        return rank;
    }

    private static byte[] nonce() {
        byte[] n = new byte[NONCE];
        RANDOM.nextBytes(n);
        return n;
    }

    private static byte[] mac(byte[] secret, byte side, int rank, byte[] a, byte[] b) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(secret, "HmacSHA256"));
            m.update(side);
            m.update(ByteBuffer.allocate(4).putInt(rank).array());
            m.update(a);
            m.update(b);
            return m.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    /** A fresh 32-byte run secret. */
    public static byte[] newSecret() {
        return nonce();
    }
}
