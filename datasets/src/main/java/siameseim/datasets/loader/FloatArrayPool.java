package siameseim.datasets.loader;

import java.util.concurrent.ArrayBlockingQueue;

/**
 * Hands the large per-batch arrays back to the loader once the trainer has copied them into
 * tensors. Why: a batch's views are arrays of megabytes (two 1.5 MB arrays per demo step, 38 MB
 * per view at 224 px and 64 images), which G1 allocates as humongous objects straight into the
 * old generation; allocating them every step kept G1's concurrent marking busy (1-2 % of a core
 * per replica, a core the replicas otherwise train on).
 */
final class FloatArrayPool {
    private final ArrayBlockingQueue<float[]> free;

    /** @param capacity arrays kept for reuse; more are left to the garbage collector */
    FloatArrayPool(int capacity) {
        this.free = new ArrayBlockingQueue<>(capacity);
    }

    /** An array of exactly {@code length} floats, reused when one is free; its contents are stale. */
    float[] take(int length) {
        for (int i = free.size(); i > 0; i--) {
            float[] a = free.poll();
            if (a == null) {
                break;
            }
            if (a.length == length) {
                return a;
            }
            // of another size (every micro-batch of a run has the same): left to the collector
        }
        return new float[length];
    }

    /** Gives an array back; the caller must not touch it afterwards. */
    void give(float[] a) {
        free.offer(a);
    }
}
