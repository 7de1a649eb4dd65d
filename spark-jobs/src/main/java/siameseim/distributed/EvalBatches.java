package siameseim.distributed;

import java.io.IOException;
import java.util.Arrays;
import siameseim.datasets.augment.EvalTransform;
import siameseim.datasets.decode.BadImageException;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.loader.RawSample;
import siameseim.datasets.loader.SampleSource;

/**
 * A replica's equal share of a split through the evaluation transform, in batches: replica r of
 * N takes positions [r n / N, (r + 1) n / N) of the split's epoch-0 order, so the shares cover
 * the source (a split, or a uniform sample of it: UniformSample) exactly once, or its first
 * {@code limit} positions.
 */
final class EvalBatches {
    private EvalBatches() {}

    /** Receives normalised images (count x 3 x S x S) and their labels; arrays are exact-size. */
    interface Consumer {
        void accept(float[] images, int[] labels, int count);
    }

    static void forShare(SampleSource src, long limit, int rank, int replicas, long seed, EvalTransform tf,
            ImageDecoder decoder, int batch, Consumer out) throws IOException {
        long n = limit > 0 ? Math.min(limit, src.size()) : src.size();
        long from = n * rank / replicas;
        long to = n * (rank + 1) / replicas;
        int pixels = 3 * tf.size() * tf.size();
        float[] images = new float[batch * pixels];
        int[] labels = new int[batch];
        int k = 0;
        try (SampleSource.Feed feed = src.open(0, seed, from, to)) {
            while (feed.hasNext()) {
                RawSample s = feed.next();
                try {
                    tf.apply(s.image() != null ? s.image() : decoder.decode(s.encoded(), Long.MAX_VALUE).image(),
                            images, k * pixels);
                } catch (BadImageException e) {
                    throw new IOException("image " + s.id() + ": " + e.getMessage(), e);
                }
                labels[k++] = s.label();
                if (k == batch) {
                    out.accept(images.clone(), labels.clone(), k);
                    k = 0;
                }
            }
        }
        if (k > 0) {
            out.accept(Arrays.copyOf(images, k * pixels), Arrays.copyOf(labels, k), k);
        }
    }
}
