package siameseim.datasets.loader;

import java.util.SplittableRandom;
import siameseim.datasets.image.RgbImage;

/**
 * Turns one micro-batch of decoded images into what a trainer consumes. Each sample comes with
 * its own random stream (seeded by its position in the epoch) and the batch with one more (for
 * batch-level choices such as mixup), so the result does not depend on threads or timing.
 */
public interface BatchAssembler<B> {
    B assemble(RgbImage[] images, int[] labels, SplittableRandom[] sampleRngs, SplittableRandom batchRng);

    /**
     * The trainer is done with {@code batch} (its data is copied into tensors): its arrays may be
     * reused for a later batch. The caller must not touch the batch afterwards.
     */
    default void recycle(B batch) {}
}
