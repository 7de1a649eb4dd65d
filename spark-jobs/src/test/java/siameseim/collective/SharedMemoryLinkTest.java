package siameseim.collective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static siameseim.testing.Floats.floats;
import static siameseim.testing.Floats.randomFloats;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The shared-memory link: a group on one host moves to it at its first operation; the
 * algorithms over it give the TCP link's bits; frames larger than a ring stream through; bad
 * frames, silent peers, closed peers and peers whose process ended (sockets closed, region not
 * marked) fail with the peer's name, the last two without waiting for the timeout.
 */
class SharedMemoryLinkTest {

    @Test
    void aRingCarriesBytesInOrderAcrossWrapAround() throws Exception {
        ByteRing producer = new ByteRing(ByteBuffer.allocateDirect(ByteRing.HEADER + 4096));
        int total = 1_000_003;
        byte[] sent = new byte[total];
        new SplittableRandom(7).nextBytes(sent);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<?> writer = pool.submit(() -> {
                SplittableRandom rng = new SplittableRandom(8);
                ByteBuffer src = ByteBuffer.wrap(sent);
                while (src.hasRemaining()) {
                    ByteBuffer piece = src.duplicate().limit(Math.min(total, src.position() + 1 + rng.nextInt(3000)));
                    int before = piece.position();
                    producer.write(piece);
                    src.position(src.position() + piece.position() - before);
                }
            });
            ByteRing consumer = producer; // the same memory, as the other process maps it
            ByteBuffer got = ByteBuffer.allocate(total);
            SplittableRandom rng = new SplittableRandom(9);
            while (got.hasRemaining()) {
                ByteBuffer window = got.duplicate().limit(Math.min(total, got.position() + 1 + rng.nextInt(5000)));
                got.position(got.position() + consumer.read(window));
            }
            writer.get();
            assertArrayEquals(sent, got.array());
        } finally {
            pool.shutdownNow();
        }
    }

    /** A group of {@code n} on this host after its first operation, on the shared-memory link. */
    private static LocalGroup onSharedMemory(int n, long timeoutMillis) throws Exception {
        LocalGroup g = new LocalGroup(n, timeoutMillis);
        g.onAll(c -> {
            c.barrier();
            return null;
        });
        for (Collective c : g.ranks) {
            assertInstanceOf(SharedMemoryLink.class, c.link(), "the group moved to shared memory");
        }
        return g;
    }

    @Test
    void theRingOverSharedMemoryGivesTheBitsOfTheRingOverTcp() throws Exception {
        int n = 1_000_001;
        List<float[]> tcp;
        List<float[]> shm;
        try (LocalGroup g = new LocalGroup(3, 20_000)) {
            g.ranks.forEach(c -> c.setSharedMemory(false));
            tcp = g.onAll(c -> {
                c.barrier();
                ByteBuffer b = randomFloats(n, c.rank());
                new RingAllReduce(c.link()).sum(100, b);
                return floats(b);
            });
            assertInstanceOf(TcpLink.class, g.ranks.get(0).link());
        }
        try (LocalGroup g = onSharedMemory(3, 20_000)) {
            shm = g.onAll(c -> {
                ByteBuffer b = randomFloats(n, c.rank());
                new RingAllReduce(c.link()).sum(100, b);
                return floats(b);
            });
        }
        for (int r = 0; r < 3; r++) {
            assertArrayEquals(tcp.get(0), shm.get(r), "rank " + r);
        }
    }

    @Test
    void smallOperationsAndFramesLargerThanARing() throws Exception {
        int big = SharedMemoryLink.RING_BYTES * 3 + 5; // bytes: streams through a ring while it is read
        try (LocalGroup g = onSharedMemory(3, 20_000)) {
            List<Object[]> out = g.onAll(c -> {
                ByteBuffer b = ByteBuffer.allocateDirect(big).order(ByteOrder.nativeOrder());
                if (c.rank() == 1) {
                    for (int i = 0; i < big; i++) {
                        b.put(i, (byte) (i * 31));
                    }
                }
                c.broadcast(b, 1);
                byte[] got = new byte[big];
                b.get(0, got);
                float[][] gathered = c.allGather(new float[] {c.rank(), 70_000 + c.rank()});
                float[] mean = c.allReduceMean(new float[] {c.rank(), 1});
                ByteBuffer sum = randomFloats(20_000, c.rank()); // 80 KB: the direct exchange, sent inline
                c.allReduceSum(sum);
                return new Object[] {got, gathered, mean, floats(sum)};
            });
            byte[] expect = new byte[big];
            for (int i = 0; i < big; i++) {
                expect[i] = (byte) (i * 31);
            }
            for (Object[] r : out) {
                assertArrayEquals(expect, (byte[]) r[0]);
                assertArrayEquals(new float[] {2, 70_002}, ((float[][]) r[1])[2]);
                assertArrayEquals(new float[] {1, 1}, (float[]) r[2]);
                assertArrayEquals((float[]) out.get(0)[3], (float[]) r[3]);
            }
            assertFalse(g.ranks.get(0).usesSharedMemory(), "no large all-reduce yet: no data regions");
        }
    }

    @Test
    void aMalformedFrameIsRejected() throws Exception {
        try (LocalGroup g = onSharedMemory(2, 20_000)) {
            g.ranks.get(0).link().send(1, 99, 0, ByteBuffer.allocate(16));
            CollectiveException e = assertThrows(CollectiveException.class,
                    () -> g.ranks.get(1).link().receive(0, 5, 0, ByteBuffer.allocate(8)));
            assertTrue(e.getMessage().contains("malformed frame from rank 0 (127.0.0.1:"), e.getMessage());
        }
    }

    @Test
    void aSilentPeerFailsTheOthersWithinTheTimeout() throws Exception {
        try (LocalGroup g = onSharedMemory(2, 1_500)) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> g.onAll(c -> {
                if (c.rank() == 0) {
                    c.allReduceSum(randomFloats(1000, 1));
                }
                return null;
            }));
            String msg = e.getCause().getMessage();
            assertTrue(msg.contains("rank 1 (127.0.0.1:") && msg.contains("did not answer within 1 s"), msg);
        }
    }

    @Test
    void aPeerThatClosesOrWhoseProcessEndsIsNamedWithoutWaitingForTheTimeout() throws Exception {
        for (boolean processEnded : new boolean[] {false, true}) {
            TcpLink[] sockets = new TcpLink[2];
            try (LocalGroup g = new LocalGroup(2, 60_000, false)) {
                g.connect(60_000);
                for (int r = 0; r < 2; r++) {
                    sockets[r] = (TcpLink) g.ranks.get(r).link();
                }
                g.onAll(c -> {
                    c.barrier();
                    return null;
                });
                if (processEnded) {
                    sockets[1].close(); // what the kernel does when the process ends: its region is not marked
                } else {
                    g.ranks.get(1).close();
                }
                CollectiveException e = assertThrows(CollectiveException.class,
                        () -> g.ranks.get(0).allReduceSum(randomFloats(100, 1)));
                assertTrue(e.getMessage().contains("lost rank 1 (127.0.0.1:") && e.getMessage().contains("closed")
                        && !e.getMessage().contains("did not answer"), processEnded + ": " + e.getMessage());
            }
        }
    }
}
