package siameseim.collective;

import static siameseim.testing.Floats.floats;
import static siameseim.testing.Floats.randomFloats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class CollectiveTest {

    @ParameterizedTest
    @CsvSource({"2, 10, false", "2, 300000, false", "3, 1000001, false", "4, 7, false", "4, 65536, false",
            "3, 200000, false", "2, 300000, true", "3, 1000001, true", "4, 65537, true", "5, 200003, true"})
    void allReduceSumIsCorrectAndIdenticalOnEveryRank(int ranks, int n, boolean sharedMemory) throws Exception {
        try (LocalGroup g = new LocalGroup(ranks, 20_000)) {
            g.ranks.forEach(c -> c.setSharedMemory(sharedMemory));
            float[] expect = new float[n];
            for (int r = 0; r < ranks; r++) {
                float[] f = floats(randomFloats(n, r));
                for (int i = 0; i < n; i++) {
                    expect[i] += f[i];
                }
            }
            List<float[]> results = g.onAll(c -> {
                ByteBuffer b = randomFloats(n, c.rank());
                c.allReduceSum(b);
                assertEquals(sharedMemory && 4L * n > Collective.SMALL_BYTES, c.usesSharedMemory(),
                        "the path taken");
                return floats(b);
            });
            for (float[] res : results) {
                assertArrayEquals(results.get(0), res, "bit-identical on every rank");
                for (int i = 0; i < n; i++) {
                    assertEquals(expect[i], res[i], 1e-4f * (1 + Math.abs(expect[i])));
                }
            }
        }
    }

    @Test
    void meanBroadcastAllGatherAndBarrier() throws Exception {
        try (LocalGroup g = new LocalGroup(3, 20_000)) {
            List<Object> out = g.onAll(c -> {
                float[] mean = c.allReduceMean(new float[] {c.rank(), 10});
                ByteBuffer b = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
                if (c.rank() == 2) {
                    b.putFloat(0, 7).putFloat(4, 8);
                }
                c.broadcast(b, 2);
                long[] all = c.allGather(100 + c.rank());
                c.barrier();
                return new Object[] {mean, floats(b), all};
            });
            for (Object o : out) {
                Object[] r = (Object[]) o;
                assertArrayEquals(new float[] {1, 10}, (float[]) r[0]);
                assertArrayEquals(new float[] {7, 8}, (float[]) r[1]);
                assertArrayEquals(new long[] {100, 101, 102}, (long[]) r[2]);
            }
        }
    }

    @Test
    void aClientWithoutTheSecretIsRefusedAndTheGroupStillForms() throws Exception {
        try (LocalGroup g = new LocalGroup(2, 20_000, false)) {
            // a stranger connects to rank 0's listener first, with a wrong MAC
            int port = g.peers.get(0).port();
            // connected here, before the group's peers, so that it is first in the listener's
            // queue however late the thread below starts (a sleep alone lost that race under load)
            Socket first = new Socket("127.0.0.1", port);
            Thread stranger = new Thread(() -> {
                try (Socket s = first) {
                    s.setSoTimeout(10_000);
                    OutputStream out = s.getOutputStream();
                    ByteBuffer hello = ByteBuffer.allocate(41).putInt(Handshake.MAGIC).put(Handshake.VERSION).putInt(1);
                    out.write(hello.array());
                    InputStream in = s.getInputStream();
                    in.readNBytes(64);
                    out.write(new byte[32]);
                    out.flush();
                    in.read();
                } catch (Exception ignored) {
                    // refused
                }
            });
            stranger.start();
            g.connect(20_000);
            stranger.join();
            List<float[]> res = g.onAll(c -> c.allReduceMean(new float[] {c.rank() * 2f}));
            assertArrayEquals(new float[] {1f}, res.get(0));
            assertTrue(g.log.stream().anyMatch(l -> l.contains("refused connection") && l.contains("authentication failed")),
                    g.log.toString());
            String secretHex = java.util.HexFormat.of().formatHex(g.secret);
            assertTrue(g.log.stream().noneMatch(l -> l.contains(secretHex)), "the secret never appears in logs");
            // after set-up, strangers are refused too
            try (Socket late = new Socket("127.0.0.1", port)) {
                assertEquals(-1, late.getInputStream().read());
            }
        }
    }

    @Test
    void aMalformedFrameIsRejected() throws Exception {
        try (LocalGroup g = new LocalGroup(2, 20_000)) {
            Link t0 = g.ranks.get(0).link();
            Link t1 = g.ranks.get(1).link();
            t0.send(1, 99, 0, ByteBuffer.allocate(16));
            CollectiveException e = assertThrows(CollectiveException.class,
                    () -> t1.receive(0, 5, 0, ByteBuffer.allocate(8)));
            assertTrue(e.getMessage().contains("malformed frame") && e.getMessage().contains("rank 0"), e.getMessage());
        }
    }

    @Test
    void aPeerThatStopsAnsweringFailsTheOthersWithinTheTimeout() throws Exception {
        try (LocalGroup g = new LocalGroup(2, 1_500)) {
            // rank 1 never joins the all-reduce
            ExecutionException e = assertThrows(ExecutionException.class, () -> g.onAll(c -> {
                if (c.rank() == 0) {
                    c.allReduceSum(randomFloats(1000, 1));
                }
                return null;
            }));
            // the watchdog's verdict (not a socket error or a hang): it names the silent rank and the timeout
            String msg = e.getCause().getMessage();
            assertTrue(msg.contains("rank 1 (127.0.0.1:") && msg.contains("did not answer within 1 s"), msg);
        }
    }

    @Test
    void theWatchdogLooksOftenEnoughForTheTimeoutAndRarelyOtherwise() {
        assertEquals(75, TcpLink.watchIntervalMillis(1_500));
        assertEquals(20, TcpLink.watchIntervalMillis(100));
        assertEquals(1_000, TcpLink.watchIntervalMillis(120_000));
    }

    @Test
    void aLostPeerIsNamed() throws Exception {
        try (LocalGroup g = new LocalGroup(2, 20_000)) {
            g.ranks.get(1).close();
            CollectiveException e = assertThrows(CollectiveException.class,
                    () -> g.ranks.get(0).allReduceSum(randomFloats(100, 1)));
            assertTrue(e.getMessage().contains("rank 1 (127.0.0.1:"), e.getMessage());
        }
    }
}
