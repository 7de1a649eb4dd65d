package siameseim.datasets.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import siameseim.datasets.image.RgbImage;

class ResamplerTest {

    @Test
    void constantImageStaysConstantUpAndDown() {
        RgbImage img = new RgbImage(40, 30);
        java.util.Arrays.fill(img.data(), 77f);
        for (int size : new int[] {8, 32, 97}) {
            RgbImage out = Resampler.resize(img, new CropBox(3, 5, 20, 30), size, size, Resampler.Filter.BICUBIC);
            for (float v : out.data()) {
                assertEquals(77f, v);
            }
        }
    }

    @Test
    void identitySizeCopiesTheCrop() {
        RgbImage img = new RgbImage(16, 16);
        for (int i = 0; i < img.data().length; i++) {
            img.data()[i] = i % 251;
        }
        RgbImage out = Resampler.resize(img, new CropBox(4, 2, 8, 8), 8, 8, Resampler.Filter.BICUBIC);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 8; y++) {
                for (int x = 0; x < 8; x++) {
                    assertEquals(img.get(c, y + 4, x + 2), out.get(c, y, x));
                }
            }
        }
    }

    @Test
    void downscalingAveragesAStripePattern() {
        // 1-pixel stripes 0/200 shrunk 4x: the antialiased kernel averages them to ~100
        RgbImage img = new RgbImage(64, 64);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 64; y++) {
                for (int x = 0; x < 64; x++) {
                    img.set(c, y, x, x % 2 == 0 ? 0 : 200);
                }
            }
        }
        RgbImage out = Resampler.resize(img, new CropBox(0, 0, 64, 64), 16, 16, Resampler.Filter.BICUBIC);
        assertEquals(100f, out.get(0, 8, 8), 2f);
    }

    /** A random image, a crop box (often at an edge) and an output size, up- or downscaling. */
    private record Case(RgbImage img, CropBox box, int ow, int oh, Resampler.Filter f) {
        static Case random(SplittableRandom rng) {
            int w = 4 + rng.nextInt(60);
            int h = 4 + rng.nextInt(60);
            RgbImage img = RandomImages.of(w, h, rng);
            int bw = 1 + rng.nextInt(w);
            int bh = 1 + rng.nextInt(h);
            CropBox box = new CropBox(rng.nextBoolean() ? h - bh : rng.nextInt(h - bh + 1),
                    rng.nextBoolean() ? w - bw : rng.nextInt(w - bw + 1), bh, bw);
            return new Case(img, box, 1 + rng.nextInt(48), 1 + rng.nextInt(48),
                    rng.nextBoolean() ? Resampler.Filter.BICUBIC : Resampler.Filter.BILINEAR);
        }

        void assertSameBits(RgbImage want, RgbImage got) {
            for (int i = 0; i < want.data().length; i++) {
                assertEquals(Float.floatToRawIntBits(want.data()[i]), Float.floatToRawIntBits(got.data()[i]),
                        "value " + i + " of " + box + " -> " + ow + "x" + oh + " " + f);
            }
        }
    }

    @Test
    void equalsThePerPixelKernelSumsBitForBit() {
        // crops at every edge, up- and downscaling: the padded tap-major loops must add the same
        // terms in the same order as one dot product per output pixel
        SplittableRandom rng = new SplittableRandom(21);
        for (int it = 0; it < 300; it++) {
            Case c = Case.random(rng);
            c.assertSameBits(perPixel(c.img(), c.box(), c.ow(), c.oh(), c.f()),
                    Resampler.resize(c.img(), c.box(), c.ow(), c.oh(), c.f()));
        }
    }

    @Test
    void mirroredResizeEqualsResizingTheFlippedImageBitForBit() {
        SplittableRandom rng = new SplittableRandom(22);
        for (int it = 0; it < 300; it++) {
            Case c = Case.random(rng);
            c.assertSameBits(Resampler.resize(c.img().flipHorizontal(), c.box(), c.ow(), c.oh(), c.f()),
                    Resampler.resizeMirrored(c.img(), c.box(), c.ow(), c.oh(), c.f()));
        }
    }

    /** PIL's two passes written as one kernel sum per output value, all rows of the input. */
    private static RgbImage perPixel(RgbImage src, CropBox box, int ow, int oh, Resampler.Filter f) {
        float[][] kx = new float[ow][];
        int[] x0 = new int[ow];
        kernels(box.left(), box.width(), src.width(), f, kx, x0);
        float[][] ky = new float[oh][];
        int[] y0 = new int[oh];
        kernels(box.top(), box.height(), src.height(), f, ky, y0);
        RgbImage tmp = new RgbImage(ow, src.height());
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < src.height(); y++) {
                for (int x = 0; x < ow; x++) {
                    float acc = 0;
                    for (int t = 0; t < kx[x].length; t++) {
                        acc += kx[x][t] * src.get(c, y, x0[x] + t);
                    }
                    tmp.set(c, y, x, RgbImage.clampRound(acc));
                }
            }
        }
        RgbImage out = new RgbImage(ow, oh);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    float acc = 0;
                    for (int t = 0; t < ky[y].length; t++) {
                        acc += ky[y][t] * tmp.get(c, y0[y] + t, x);
                    }
                    out.set(c, y, x, RgbImage.clampRound(acc));
                }
            }
        }
        return out;
    }

    /** PIL's precompute_coeffs: normalised kernel weights and first input index per output pixel. */
    private static void kernels(int from, int span, int inSize, Resampler.Filter f, float[][] k, int[] first) {
        int outSize = k.length;
        double scale = (double) span / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = (f == Resampler.Filter.BICUBIC ? 2.0 : 1.0) * filterScale;
        for (int o = 0; o < outSize; o++) {
            double center = from + (o + 0.5) * scale;
            int lo = Math.max((int) (center - support + 0.5), 0);
            int n = Math.max(Math.min((int) (center + support + 0.5), inSize) - lo, 0);
            double[] w = new double[n];
            double total = 0;
            for (int t = 0; t < n; t++) {
                w[t] = f.weight((t + lo - center + 0.5) * (1.0 / filterScale));
                total += w[t];
            }
            k[o] = new float[n];
            for (int t = 0; t < n; t++) {
                k[o][t] = (float) (total != 0 ? w[t] / total : w[t]);
            }
            first[o] = lo;
        }
    }
}
