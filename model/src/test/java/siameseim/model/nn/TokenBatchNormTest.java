package siameseim.model.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import siameseim.testing.TwinReplicas;

class TokenBatchNormTest {
    private static final int CHANNELS = 16;

    /**
     * With equal replicas the cross-replica layer is the one-replica layer: same output, same
     * gradients. The backward runs after a garbage collection and a burst of NaN-filled direct
     * buffers, so a tensor of the graph whose Java-side memory was released early (a created
     * tensor's storage is its Java buffer on CPU) shows up as NaN or a wrong gradient.
     */
    @Test
    void equalReplicasGiveTheOneReplicaOutputAndGradientsAfterGarbageCollection() throws Exception {
        Torch.init();
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.randomNormal(new Shape(6, 10, CHANNELS)).mul(2).add(0.5);
            NDArray upstream = m.randomNormal(new Shape(6, 10, CHANNELS));
            // a non-trivial affine part, the same for both layers
            NDArray w = m.randomUniform(0.5f, 1.5f, new Shape(CHANNELS));
            NDArray b = m.randomUniform(-1f, 1f, new Shape(CHANNELS));
            Result single = run(m, x, upstream, w, b, CrossReplicaMean.SINGLE);
            Result cross = run(m, x, upstream, w, b, TwinReplicas.STATISTICS);
            assertClose(single.y, cross.y, "output");
            assertClose(single.dx, cross.dx, "input gradient");
            assertClose(single.dw, cross.dw, "weight gradient");
            assertClose(single.db, cross.db, "bias gradient");
        }
    }

    private record Result(float[] y, float[] dx, float[] dw, float[] db) {}

    private static Result run(NDManager m, NDArray x0, NDArray upstream, NDArray w, NDArray b,
            CrossReplicaMean replicas) throws Exception {
        TokenBatchNorm bn = new TokenBatchNorm(m, CHANNELS, 1e-5f);
        bn.namedParams().get("bn.weight").copyFrom(w);
        bn.namedParams().get("bn.bias").copyFrom(b);
        bn.setCrossReplica(replicas);
        try (NDManager step = m.newSubManager()) {
            NDArray x = x0.duplicate();
            x.attach(step);
            x.setRequiresGradient(true);
            float[] y;
            try (Autograd gc = Autograd.record()) {
                NDArray out = bn.forward(x, true);
                y = out.toFloatArray();
                NDArray loss = out.mul(upstream).sum();
                churn();
                gc.backward(loss);
            }
            Map<String, Param> p = bn.namedParams();
            return new Result(y, x.getGradient().toFloatArray(), p.get("bn.weight").array().getGradient().toFloatArray(),
                    p.get("bn.bias").array().getGradient().toFloatArray());
        }
    }

    /**
     * Runs the collector until a direct buffer dropped here has been freed (its memory has left
     * the JVM's direct pool: the collector found it and its Cleaner ran, as it would for any
     * Java-side tensor memory no longer referenced), then hands freed native memory out again,
     * filled with NaN.
     */
    private static void churn() throws InterruptedException {
        java.lang.management.BufferPoolMXBean direct = java.lang.management.ManagementFactory
                .getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class).stream()
                .filter(p -> p.getName().equals("direct")).findFirst().orElseThrow();
        int size = 1 << 24;
        ByteBuffer dropped = ByteBuffer.allocateDirect(size);
        long withIt = direct.getMemoryUsed();
        dropped = null;
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (direct.getMemoryUsed() > withIt - size && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(10);
        }
        assertTrue(direct.getMemoryUsed() <= withIt - size, "a dropped direct buffer was freed before the backward"
                + " (direct pool " + direct.getMemoryUsed() + " bytes, " + withIt + " with it)");
        List<ByteBuffer> hold = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(4 * CHANNELS);
            while (b.hasRemaining()) {
                b.putFloat(Float.NaN);
            }
            hold.add(b);
        }
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertTrue(Math.abs(expected[i] - actual[i]) <= 1e-4 * (1 + Math.abs(expected[i])),
                    what + "[" + i + "]: " + expected[i] + " vs " + actual[i]);
        }
    }
}
