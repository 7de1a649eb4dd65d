package siameseim.datasets.loader;

import java.util.SplittableRandom;
import siameseim.datasets.augment.FinetuneTransform;
import siameseim.datasets.augment.Mixup;
import siameseim.datasets.image.RgbImage;
import siameseim.batch.LabelledBatch;

/** Fine-tuning batches: the training transform per image, then mixup/CutMix over the micro-batch. */
public final class ClassifierAssembler implements BatchAssembler<LabelledBatch> {
    private final FinetuneTransform transform;
    private final Mixup mixup;
    private final int classes;

    public ClassifierAssembler(FinetuneTransform transform, Mixup mixup, int classes) {
        this.transform = transform;
        this.mixup = mixup;
        this.classes = classes;
    }

    @Override
    public LabelledBatch assemble(RgbImage[] images, int[] labels, SplittableRandom[] rngs, SplittableRandom batchRng) {
        int size = transform.size();
        int pixels = 3 * size * size;
        int n = images.length;
        float[] x = new float[n * pixels];
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("label " + labels[i] + " is outside the " + classes
                        + " classes of the head");
            }
            transform.apply(images[i], rngs[i], x, i * pixels);
        }
        float[] targets = mixup.apply(x, labels, size, batchRng);
        return new LabelledBatch(n, size, x, targets, classes, labels.clone());
    }
}
