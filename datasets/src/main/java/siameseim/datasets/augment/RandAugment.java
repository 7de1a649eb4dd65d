package siameseim.datasets.augment;

import java.util.SplittableRandom;
import siameseim.datasets.image.RgbImage;

/**
 * timm's RandAugment as the fine-tuning recipe uses it ({@code rand-m9-mstd0.5-inc1}, spec 5.2):
 * two operations drawn uniformly from the "increasing" set, each applied with probability 0.5,
 * magnitude drawn from N(9, 0.5) clipped to [0, 10] per operation. Geometric operations fill
 * with timm's image mean (124, 116, 104) and interpolate bilinearly.
 */
public final class RandAugment {
    static final float[] FILL = {124, 116, 104};
    private final int layers;
    private final double magnitude;
    private final double magnitudeStd;

    public RandAugment(int layers, double magnitude, double magnitudeStd) {
        this.layers = layers;
        this.magnitude = magnitude;
        this.magnitudeStd = magnitudeStd;
    }

    /** The operations, in timm's order. */
    public enum Op {
        AUTO_CONTRAST, EQUALIZE, INVERT, ROTATE, POSTERIZE, SOLARIZE, SOLARIZE_ADD, COLOR, CONTRAST, BRIGHTNESS,
        SHARPNESS, SHEAR_X, SHEAR_Y, TRANSLATE_X, TRANSLATE_Y
    }

    public RgbImage apply(RgbImage img, SplittableRandom rng) {
        for (int i = 0; i < layers; i++) {
            Op op = Op.values()[rng.nextInt(Op.values().length)];
            if (rng.nextDouble() >= 0.5) {
                continue;
            }
            double m = magnitude + magnitudeStd * rng.nextGaussian();
            m = Math.max(0, Math.min(10, m)) / 10.0;
            img = apply(op, img, m, rng.nextBoolean());
        }
        return img;
    }

    /** One operation at level {@code m} in [0, 1]; {@code negate} flips signed operations. */
    public static RgbImage apply(Op op, RgbImage img, double m, boolean negate) {
        double sign = negate ? -1 : 1;
        RgbImage out = img.isGrey() ? img.rgb() : img.copy();
        switch (op) {
            case AUTO_CONTRAST -> autoContrast(out);
            case EQUALIZE -> equalize(out);
            case INVERT -> map(out, v -> 255 - v);
            case ROTATE -> out = affine(img, rotation(img, sign * m * 30));
            case POSTERIZE -> {
                int bits = 4 - (int) (m * 4);
                int mask = ~((1 << (8 - Math.max(bits, 0))) - 1) & 0xff;
                map(out, v -> ((int) v) & mask);
            }
            case SOLARIZE -> {
                int thresh = 256 - (int) (m * 256);
                map(out, v -> v >= thresh ? 255 - v : v);
            }
            case SOLARIZE_ADD -> {
                int add = (int) (m * 110);
                map(out, v -> v < 128 ? Math.min(255, v + add) : v);
            }
            case COLOR -> ColorOps.saturation(out, 1 + sign * m * 0.9);
            case CONTRAST -> ColorOps.contrast(out, 1 + sign * m * 0.9);
            case BRIGHTNESS -> ColorOps.brightness(out, 1 + sign * m * 0.9);
            case SHARPNESS -> sharpness(out, 1 + sign * m * 0.9);
            case SHEAR_X -> out = affine(img, new double[] {1, sign * m * 0.3, 0, 0, 1, 0});
            case SHEAR_Y -> out = affine(img, new double[] {1, 0, 0, sign * m * 0.3, 1, 0});
            case TRANSLATE_X -> out = affine(img, new double[] {1, 0, sign * m * 0.45 * img.width(), 0, 1, 0});
            case TRANSLATE_Y -> out = affine(img, new double[] {1, 0, 0, 0, 1, sign * m * 0.45 * img.height()});
            default -> throw new IllegalStateException();
        }
        return out;
    }

    private interface Px {
        float f(float v);
    }

    private static void map(RgbImage img, Px f) {
        float[] d = img.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = f.f(d[i]);
        }
    }

    /** PIL ImageOps.autocontrast(cutoff 0): each channel stretched to 0..255. */
    static void autoContrast(RgbImage img) {
        float[] d = img.data();
        int n = img.plane();
        for (int c = 0; c < 3; c++) {
            float lo = 255;
            float hi = 0;
            for (int i = 0; i < n; i++) {
                lo = Math.min(lo, d[c * n + i]);
                hi = Math.max(hi, d[c * n + i]);
            }
            if (hi <= lo) {
                continue;
            }
            float scale = 255f / (hi - lo);
            for (int i = 0; i < n; i++) {
                d[c * n + i] = RgbImage.clampRound((d[c * n + i] - lo) * scale);
            }
        }
    }

    /** PIL ImageOps.equalize: per-channel histogram equalisation. */
    static void equalize(RgbImage img) {
        float[] d = img.data();
        int n = img.plane();
        for (int c = 0; c < 3; c++) {
            int[] hist = new int[256];
            for (int i = 0; i < n; i++) {
                hist[(int) d[c * n + i]]++;
            }
            int last = 255;
            while (last > 0 && hist[last] == 0) {
                last--;
            }
            int step = (n - hist[last]) / 255;
            if (step == 0) {
                continue;
            }
            int[] lut = new int[256];
            int acc = step / 2;
            for (int v = 0; v < 256; v++) {
                lut[v] = Math.min(255, acc / step);
                acc += hist[v];
            }
            for (int i = 0; i < n; i++) {
                d[c * n + i] = lut[(int) d[c * n + i]];
            }
        }
    }

    /** PIL ImageEnhance.Sharpness: blend with the SMOOTH-filtered image (borders kept). */
    static void sharpness(RgbImage img, double factor) {
        int w = img.width();
        int h = img.height();
        float[] d = img.data();
        float[] smooth = d.clone();
        for (int c = 0; c < 3; c++) {
            for (int y = 1; y < h - 1; y++) {
                for (int x = 1; x < w - 1; x++) {
                    float s = 0;
                    for (int dy = -1; dy <= 1; dy++) {
                        for (int dx = -1; dx <= 1; dx++) {
                            s += d[(c * h + y + dy) * w + x + dx] * (dx == 0 && dy == 0 ? 5 : 1);
                        }
                    }
                    smooth[(c * h + y) * w + x] = RgbImage.clampRound(s / 13);
                }
            }
        }
        float f = (float) factor;
        for (int i = 0; i < d.length; i++) {
            d[i] = RgbImage.clampRound(smooth[i] + f * (d[i] - smooth[i]));
        }
    }

    /** Inverse affine map about the image centre for a rotation of {@code degrees}. */
    static double[] rotation(RgbImage img, double degrees) {
        double a = Math.toRadians(degrees);
        double cx = img.width() / 2.0;
        double cy = img.height() / 2.0;
        double cos = Math.cos(a);
        double sin = Math.sin(a);
        // output (x, y) samples input (cos x + sin y + tx, -sin x + cos y + ty), as PIL's rotate
        return new double[] {cos, sin, cx - cos * cx - sin * cy, -sin, cos, cy + sin * cx - cos * cy};
    }

    /** PIL Image.transform(AFFINE): output (x, y) samples input (a x + b y + c, d x + e y + f). */
    static RgbImage affine(RgbImage img, double[] m) {
        int w = img.width();
        int h = img.height();
        RgbImage out = new RgbImage(w, h);
        float[] s = img.data();
        float[] o = out.data();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double sx = m[0] * (x + 0.5) + m[1] * (y + 0.5) + m[2] - 0.5;
                double sy = m[3] * (x + 0.5) + m[4] * (y + 0.5) + m[5] - 0.5;
                int x0 = (int) Math.floor(sx);
                int y0 = (int) Math.floor(sy);
                double fx = sx - x0;
                double fy = sy - y0;
                for (int c = 0; c < 3; c++) {
                    if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) {
                        o[(c * h + y) * w + x] = FILL[c];
                        continue;
                    }
                    double v00 = at(s, c, x0, y0, w, h);
                    double v10 = at(s, c, x0 + 1, y0, w, h);
                    double v01 = at(s, c, x0, y0 + 1, w, h);
                    double v11 = at(s, c, x0 + 1, y0 + 1, w, h);
                    double v = (v00 * (1 - fx) + v10 * fx) * (1 - fy) + (v01 * (1 - fx) + v11 * fx) * fy;
                    o[(c * h + y) * w + x] = RgbImage.clampRound((float) v);
                }
            }
        }
        return out;
    }

    private static double at(float[] s, int c, int x, int y, int w, int h) {
        if (x < 0 || y < 0 || x >= w || y >= h) {
            return FILL[c];
        }
        return s[(c * h + y) * w + x];
    }
}
