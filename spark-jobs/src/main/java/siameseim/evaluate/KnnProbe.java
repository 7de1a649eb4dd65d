package siameseim.evaluate;

import ai.djl.ndarray.NDManager;
import siameseim.datasets.augment.EvalTransform;
import siameseim.datasets.image.ImageSource;
import siameseim.eval.FeatureExtractor;
import siameseim.eval.Knn;

/** Frozen-encoder kNN accuracy on labelled in-process image sets (no Spark). */
public final class KnnProbe {
    private static final int CHUNK = 256;

    private KnnProbe() {}

    public static Knn.Accuracy run(FeatureExtractor features, EvalTransform transform, ImageSource train,
            ImageSource test, int classes, int k, double temperature, NDManager manager) {
        return Knn.evaluate(extract(features, transform, train, manager), labels(train),
                extract(features, transform, test, manager), labels(test), features.dimension(), classes, k,
                temperature);
    }

    /** Features of every image of {@code src}, n x D row-major. */
    public static float[] extract(FeatureExtractor features, EvalTransform transform, ImageSource src,
            NDManager manager) {
        int n = src.size();
        int d = features.dimension();
        int s = transform.size();
        int pixels = 3 * s * s;
        float[] out = new float[n * d];
        for (int start = 0; start < n; start += CHUNK) {
            int count = Math.min(CHUNK, n - start);
            float[] batch = new float[count * pixels];
            for (int i = 0; i < count; i++) {
                transform.apply(src.image(start + i), batch, i * pixels);
            }
            float[] f = features.extract(batch, count, s, manager);
            System.arraycopy(f, 0, out, start * d, f.length);
        }
        return out;
    }

    static int[] labels(ImageSource src) {
        int[] l = new int[src.size()];
        for (int i = 0; i < l.length; i++) {
            l[i] = src.label(i);
        }
        return l;
    }
}
