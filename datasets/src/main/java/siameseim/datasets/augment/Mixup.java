package siameseim.datasets.augment;

import java.util.SplittableRandom;

/**
 * timm's Mixup in batch mode (spec 5.2): with probability {@code prob} the batch is mixed with
 * itself reversed, by CutMix (alpha 1.0) with probability {@code switchProb} else by mixup
 * (alpha 0.8), lambda ~ Beta(alpha, alpha) (CutMix's lambda corrected to the pasted area); the
 * targets are the same mix of label-smoothed one-hot vectors.
 */
public final class Mixup {
    private final double mixupAlpha;
    private final double cutmixAlpha;
    private final double prob;
    private final double switchProb;
    private final double smoothing;
    private final int classes;

    public Mixup(double mixupAlpha, double cutmixAlpha, double prob, double switchProb, double smoothing, int classes) {
        this.mixupAlpha = mixupAlpha;
        this.cutmixAlpha = cutmixAlpha;
        this.prob = prob;
        this.switchProb = switchProb;
        this.smoothing = smoothing;
        this.classes = classes;
    }

    /**
     * Mixes {@code images} (B x 3 x S x S) in place and returns the soft targets (B x classes).
     */
    public float[] apply(float[] images, int[] labels, int size, SplittableRandom rng) {
        int b = labels.length;
        double lam = 1;
        boolean cutmix = false;
        if (rng.nextDouble() < prob && (mixupAlpha > 0 || cutmixAlpha > 0)) {
            cutmix = cutmixAlpha > 0 && (mixupAlpha <= 0 || rng.nextDouble() < switchProb);
            lam = beta(cutmix ? cutmixAlpha : mixupAlpha, rng);
        }
        int pixels = 3 * size * size;
        if (lam < 1) {
            float[] orig = images.clone();
            if (cutmix) {
                double cut = Math.sqrt(1 - lam);
                int ch = (int) (size * cut);
                int cw = (int) (size * cut);
                int cy = rng.nextInt(size);
                int cx = rng.nextInt(size);
                int y0 = Math.max(0, cy - ch / 2);
                int y1 = Math.min(size, cy + ch / 2);
                int x0 = Math.max(0, cx - cw / 2);
                int x1 = Math.min(size, cx + cw / 2);
                for (int i = 0; i < b; i++) {
                    int j = b - 1 - i;
                    for (int c = 0; c < 3; c++) {
                        for (int y = y0; y < y1; y++) {
                            System.arraycopy(orig, j * pixels + (c * size + y) * size + x0, images,
                                    i * pixels + (c * size + y) * size + x0, x1 - x0);
                        }
                    }
                }
                lam = 1 - (double) (y1 - y0) * (x1 - x0) / (size * size);
            } else {
                for (int i = 0; i < b; i++) {
                    int j = b - 1 - i;
                    for (int p = 0; p < pixels; p++) {
                        images[i * pixels + p] = (float) (lam * orig[i * pixels + p] + (1 - lam) * orig[j * pixels + p]);
                    }
                }
            }
        }
        float off = (float) (smoothing / classes);
        float on = (float) (1 - smoothing + off);
        float[] t = new float[b * classes];
        for (int i = 0; i < b; i++) {
            int j = b - 1 - i;
            for (int c = 0; c < classes; c++) {
                float a = c == labels[i] ? on : off;
                float z = c == labels[j] ? on : off;
                t[i * classes + c] = (float) (lam * a + (1 - lam) * z);
            }
        }
        return t;
    }

    /** Beta(a, a) from two Gamma(a, 1) draws. */
    static double beta(double a, SplittableRandom rng) {
        double x = gamma(a, rng);
        double y = gamma(a, rng);
        return x / (x + y);
    }

    /** Marsaglia-Tsang Gamma(k, 1), with the boost for k < 1. */
    static double gamma(double k, SplittableRandom rng) {
        if (k < 1) {
            return gamma(k + 1, rng) * Math.pow(rng.nextDouble(), 1 / k);
        }
        double d = k - 1 / 3.0;
        double c = 1 / Math.sqrt(9 * d);
        while (true) {
            double x = rng.nextGaussian();
            double v = 1 + c * x;
            if (v <= 0) {
                continue;
            }
            v = v * v * v;
            double u = rng.nextDouble();
            if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) {
                return d * v;
            }
        }
    }
}
