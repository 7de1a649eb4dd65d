package siameseim.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * Initial values drawn on the host from a seeded generator (spec 2.6), so every replica and every
 * engine builds bit-identical weights from the same seed.
 */
public final class Init {
    private Init() {}

    /** xavier_uniform on the (fanOut, fanIn) matrix view of {@code shape}. */
    public static NDArray xavierUniform(NDManager m, SplittableRandom rng, Shape shape, long fanIn, long fanOut) {
        double bound = Math.sqrt(6.0 / (fanIn + fanOut));
        float[] v = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
        return m.create(v, shape);
    }

    /** normal(0, std). */
    public static NDArray normal(NDManager m, SplittableRandom rng, Shape shape, double std) {
        float[] v = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rng.nextGaussian() * std);
        }
        return m.create(v, shape);
    }

    /**
     * Truncated normal(0, std) cut at +-2 std (timm's trunc_normal_, used for classifier heads).
     */
    public static NDArray truncatedNormal(NDManager m, SplittableRandom rng, Shape shape, double std) {
        float[] v = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < v.length; i++) {
            double g;
            do {
                g = rng.nextGaussian();
            } while (Math.abs(g) > 2);
            v[i] = (float) (g * std);
        }
        return m.create(v, shape);
    }
}
