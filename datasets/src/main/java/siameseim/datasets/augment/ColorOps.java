package siameseim.datasets.augment;

import siameseim.datasets.image.RgbImage;

/**
 * The colour operations of the reference pipeline with PIL's semantics on 8-bit images
 * (ImageEnhance blends, ITU-R 601-2 luma, ImageOps.solarize), each rounding to integers.
 *
 * <p>Deviations, all below one grey level on typical images: hue is shifted in float HSV
 * instead of PIL's uint8 HSV; the blur is an exact separable Gaussian (radius 3 sigma, edge
 * pixels repeated) where PIL approximates it with three box blurs.
 */
public final class ColorOps {
    private ColorOps() {}

    /** PIL's luma, L = (19595 R + 38470 G + 7471 B + 2^15) >> 16. */
    static float luma(float r, float g, float b) {
        // pixels hold integers 0..255 after every operation
        return (19595 * (int) r + 38470 * (int) g + 7471 * (int) b + 32768) >> 16;
    }

    /** ImageEnhance.Brightness: blend with black. */
    public static void brightness(RgbImage img, double factor) {
        float[] d = img.data();
        float f = (float) factor;
        for (int i = 0; i < d.length; i++) {
            d[i] = RgbImage.clampRound(d[i] * f);
        }
    }

    /** ImageEnhance.Contrast: blend with the mean luma (rounded to an integer). */
    public static void contrast(RgbImage img, double factor) {
        float[] d = img.data();
        int n = img.plane();
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += luma(d[i], d[n + i], d[2 * n + i]);
        }
        float mean = (float) Math.floor(sum / n + 0.5);
        float f = (float) factor;
        for (int i = 0; i < d.length; i++) {
            d[i] = RgbImage.clampRound(mean + f * (d[i] - mean));
        }
    }

    /** ImageEnhance.Color: blend with the image's own luma. */
    public static void saturation(RgbImage img, double factor) {
        float[] d = img.data();
        int n = img.plane();
        float f = (float) factor;
        for (int i = 0; i < n; i++) {
            float l = luma(d[i], d[n + i], d[2 * n + i]);
            d[i] = RgbImage.clampRound(l + f * (d[i] - l));
            d[n + i] = RgbImage.clampRound(l + f * (d[n + i] - l));
            d[2 * n + i] = RgbImage.clampRound(l + f * (d[2 * n + i] - l));
        }
    }

    /** Hue rotation by {@code shift} of a full turn (|shift| <= 0.5). */
    public static void hue(RgbImage img, double shift) {
        float[] d = img.data();
        int n = img.plane();
        for (int i = 0; i < n; i++) {
            double r = d[i] / 255.0;
            double g = d[n + i] / 255.0;
            double b = d[2 * n + i] / 255.0;
            double max = Math.max(r, Math.max(g, b));
            double min = Math.min(r, Math.min(g, b));
            double v = max;
            double delta = max - min;
            double s = max == 0 ? 0 : delta / max;
            double h;
            if (delta == 0) {
                h = 0;
            } else if (max == r) {
                h = ((g - b) / delta) / 6;
            } else if (max == g) {
                h = ((b - r) / delta + 2) / 6;
            } else {
                h = ((r - g) / delta + 4) / 6;
            }
            h = h + shift;
            h -= Math.floor(h);
            double h6 = h * 6;
            int sector = (int) Math.floor(h6) % 6;
            double f = h6 - Math.floor(h6);
            double p = v * (1 - s);
            double q = v * (1 - s * f);
            double t = v * (1 - s * (1 - f));
            double rr;
            double gg;
            double bb;
            switch (sector) {
                case 0 -> { rr = v; gg = t; bb = p; }
                case 1 -> { rr = q; gg = v; bb = p; }
                case 2 -> { rr = p; gg = v; bb = t; }
                case 3 -> { rr = p; gg = q; bb = v; }
                case 4 -> { rr = t; gg = p; bb = v; }
                default -> { rr = v; gg = p; bb = q; }
            }
            d[i] = RgbImage.clampRound((float) (rr * 255));
            d[n + i] = RgbImage.clampRound((float) (gg * 255));
            d[2 * n + i] = RgbImage.clampRound((float) (bb * 255));
        }
    }

    /** convert("L") then back to three equal channels. */
    public static void grayscale(RgbImage img) {
        float[] d = img.data();
        int n = img.plane();
        for (int i = 0; i < n; i++) {
            float l = luma(d[i], d[n + i], d[2 * n + i]);
            d[i] = l;
            d[n + i] = l;
            d[2 * n + i] = l;
        }
    }

    /** ImageOps.solarize(threshold 128): values >= 128 become 255 - v. */
    public static void solarize(RgbImage img) {
        float[] d = img.data();
        for (int i = 0; i < d.length; i++) {
            if (d[i] >= 128) {
                d[i] = 255 - d[i];
            }
        }
    }

    /** Separable Gaussian blur with standard deviation {@code sigma} pixels (edges repeated). */
    public static void gaussianBlur(RgbImage img, double sigma) {
        if (sigma <= 0) {
            return;
        }
        int radius = Math.max(1, (int) Math.ceil(3 * sigma));
        float[] k = new float[2 * radius + 1];
        double total = 0;
        for (int i = -radius; i <= radius; i++) {
            total += Math.exp(-(i * i) / (2 * sigma * sigma));
        }
        for (int i = -radius; i <= radius; i++) {
            k[i + radius] = (float) (Math.exp(-(i * i) / (2 * sigma * sigma)) / total);
        }
        int w = img.width();
        int h = img.height();
        float[] d = img.data();
        float[] tmp = new float[d.length];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                int row = (c * h + y) * w;
                for (int x = 0; x < w; x++) {
                    float acc = 0;
                    if (x >= radius && x < w - radius) {
                        int base = row + x - radius;
                        for (int t = 0; t < k.length; t++) {
                            acc += k[t] * d[base + t];
                        }
                    } else {
                        for (int t = -radius; t <= radius; t++) {
                            int xx = Math.min(w - 1, Math.max(0, x + t));
                            acc += k[t + radius] * d[row + xx];
                        }
                    }
                    tmp[row + x] = acc;
                }
            }
            float[] acc = new float[w];
            for (int y = 0; y < h; y++) {
                java.util.Arrays.fill(acc, 0f);
                for (int t = -radius; t <= radius; t++) {
                    int yy = Math.min(h - 1, Math.max(0, y + t));
                    float kv = k[t + radius];
                    int src = (c * h + yy) * w;
                    for (int x = 0; x < w; x++) {
                        acc[x] += kv * tmp[src + x];
                    }
                }
                int dst = (c * h + y) * w;
                for (int x = 0; x < w; x++) {
                    d[dst + x] = RgbImage.clampRound(acc[x]);
                }
            }
        }
    }

    /** ToTensor + Normalize into {@code out} at {@code offset}: (v / 255 - mean) / std, CHW. */
    public static void normalizeInto(RgbImage img, double[] mean, double[] std, float[] out, int offset) {
        float[] d = img.data();
        int n = img.plane();
        for (int c = 0; c < 3; c++) {
            float scale = (float) (1.0 / (255.0 * std[c]));
            float shift = (float) (-mean[c] / std[c]);
            int base = c * n;
            for (int i = 0; i < n; i++) {
                out[offset + base + i] = d[base + i] * scale + shift;
            }
        }
    }
}
