package siameseim.datasets.loader;

import java.util.SplittableRandom;
import siameseim.datasets.augment.TwoViewAugmenter;
import siameseim.datasets.image.RgbImage;
import siameseim.batch.SiameseBatch;

/** Pretraining batches: two augmented views, the visible tokens of view 1 and the relative geometry. */
public final class SiameseAssembler implements BatchAssembler<SiameseBatch> {
    private final TwoViewAugmenter augmenter;
    /** Views of recycled batches: prefetch-batches + 1 steps in flight, two views each, with room. */
    private final FloatArrayPool views = new FloatArrayPool(16);

    public SiameseAssembler(TwoViewAugmenter augmenter) {
        this.augmenter = augmenter;
    }

    @Override
    public SiameseBatch assemble(RgbImage[] images, int[] labels, SplittableRandom[] rngs, SplittableRandom batchRng) {
        int size = augmenter.imageSize();
        int lv = augmenter.visibleCount();
        int pixels = 3 * size * size;
        int count = images.length;
        // every element is written below, so a recycled array's old contents do not matter
        float[] v1 = views.take(count * pixels);
        float[] v2 = views.take(count * pixels);
        long[] vis = new long[count * lv];
        float[] geo = new float[count * 6];
        for (int i = 0; i < count; i++) {
            TwoViewAugmenter.Sample t = augmenter.apply(images[i], rngs[i]);
            System.arraycopy(t.view1(), 0, v1, i * pixels, pixels);
            System.arraycopy(t.view2(), 0, v2, i * pixels, pixels);
            for (int k = 0; k < lv; k++) {
                vis[i * lv + k] = t.visible()[k];
            }
            t.geometry().writeTo(geo, i * 6);
        }
        return new SiameseBatch(count, size, v1, v2, vis, lv, geo);
    }

    @Override
    public void recycle(SiameseBatch batch) {
        views.give(batch.view1());
        views.give(batch.view2());
    }
}
