package siameseim.collective;

import java.util.function.BooleanSupplier;

/**
 * Which algorithm an all-reduce uses; every rank chooses alike, since all see the same sizes and
 * the same shared-memory vote. Small buffers take the direct exchange (one round trip: latency
 * matters more than bandwidth), large ones the shared-memory sum when every rank is on this host
 * and may use it, else the ring (bandwidth-optimal between hosts).
 */
final class AllReducePolicy {
    /** Buffers up to this many bytes use the direct exchange. */
    static final int SMALL_BYTES = 256 << 10;

    enum Algorithm { NONE, DIRECT, SHARED_MEMORY, RING }

    private AllReducePolicy() {}

    /** @param sharedMemory asked only for large buffers: whether every rank can use shared memory */
    static Algorithm choose(int ranks, long bytes, BooleanSupplier sharedMemory) {
        if (ranks == 1) {
            return Algorithm.NONE;
        }
        if (bytes <= SMALL_BYTES) {
            return Algorithm.DIRECT;
        }
        return sharedMemory.getAsBoolean() ? Algorithm.SHARED_MEMORY : Algorithm.RING;
    }
}
