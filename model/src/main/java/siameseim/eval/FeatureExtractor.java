package siameseim.eval;

import siameseim.config.FeaturePool;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import siameseim.model.nn.Torch;
import siameseim.model.vit.VisionTransformer;
import siameseim.train.MixedPrecision;

/**
 * Frozen-encoder features (spec 5): all tokens through the online encoder, no final norm, then
 * mean-pooled patch tokens or the CLS token. Runs without autograd, in fp32 unless asked
 * otherwise (eval.precision), in the thread that calls {@link #extract}.
 */
public final class FeatureExtractor {
    private final VisionTransformer encoder;
    private final FeaturePool pool;
    private final MixedPrecision precision;

    public FeatureExtractor(VisionTransformer encoder, FeaturePool pool) {
        this(encoder, pool, MixedPrecision.fp32());
    }

    /** @param precision the forward pass's precision (its loss scale plays no part here) */
    public FeatureExtractor(VisionTransformer encoder, FeaturePool pool, MixedPrecision precision) {
        this.encoder = encoder;
        this.pool = pool;
        this.precision = precision;
    }

    public int dimension() {
        return encoder.width();
    }

    /**
     * @param images normalised CHW images, {@code count} of them back to back
     * @return count x D features, row-major
     */
    public float[] extract(float[] images, int count, int imageSize, NDManager parent) {
        Torch.disableGradOnThisThread();
        try (NDManager m = parent.newSubManager()) {
            NDArray x = m.create(images, new Shape(count, 3, imageSize, imageSize));
            NDArray f = precision.forward(() -> {
                NDArray tokens = encoder.forwardAll(x, false);
                return pool == FeaturePool.CLS ? tokens.get(new NDIndex(":, 0, :"))
                        : tokens.get(new NDIndex(":, 1:, :")).mean(new int[] {1});
            });
            return (f.getDataType() == DataType.FLOAT32 ? f : f.toType(DataType.FLOAT32, false)).toFloatArray();
        }
    }

    /** {@code f} scaled to unit length (a zero vector stays zero). */
    public static float[] unitLength(float[] f) {
        double s = 0;
        for (float x : f) {
            s += (double) x * x;
        }
        float inv = s == 0 ? 0 : (float) (1 / Math.sqrt(s));
        float[] o = new float[f.length];
        for (int i = 0; i < f.length; i++) {
            o[i] = f[i] * inv;
        }
        return o;
    }

    /**
     * {@code f} centred on its own mean, then scaled to unit length, in double precision (spec 5.4:
     * the few-shot protocol's features); a constant vector becomes zero.
     */
    public static double[] centredUnitLength(float[] f) {
        double mean = 0;
        for (float v : f) {
            mean += v;
        }
        mean /= f.length;
        double[] c = new double[f.length];
        double norm = 0;
        for (int i = 0; i < f.length; i++) {
            c[i] = f[i] - mean;
            norm += c[i] * c[i];
        }
        norm = Math.max(Math.sqrt(norm), 1e-12);
        for (int i = 0; i < c.length; i++) {
            c[i] /= norm;
        }
        return c;
    }
}
