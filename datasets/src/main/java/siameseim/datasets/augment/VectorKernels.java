package siameseim.datasets.augment;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import siameseim.datasets.image.RgbImage;

/**
 * The Vector API path of {@link Kernels}; only loaded when jdk.incubator.vector is present.
 *
 * <p>The 8-bit rounding {@code clampRound(v) = max(0, min(255, (int) (v + 0.5f)))} without a
 * float-to-int conversion (which JDK 17 does not compile to a SIMD instruction; it made the loop
 * slower than the scalar one): with s = v + 0.5f (the same float add), u = s if s >= 0 else 0
 * (NaN included, as (int) NaN is 0), u = min(u, 255), and then floor(u), which for 0 <= u <= 255
 * equals (int) s clamped. floor(u) = t or t - 1 where t = (u + 2^23) - 2^23 is u rounded to the
 * nearest integer (exact for 0 <= u < 2^23: the sum's last bit is worth 1): t - 1 where t > u.
 */
final class VectorKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = S.length();
    private static final float TWO_23 = 8388608f;
    private static final FloatVector TWO = FloatVector.broadcast(S, 2f);
    private static final FloatVector FOUR = FloatVector.broadcast(S, 4f);

    private VectorKernels() {}

    static boolean works() {
        float[] a = new float[S.length() + 3];
        for (int i = 0; i < a.length; i++) {
            a[i] = i - 1.5f;
        }
        float[] out = new float[a.length];
        weightedRows(a, new int[] {0}, new float[] {1f}, 1, a.length, out, 0, true); // 0 + 1 * v is v
        for (int i = 0; i < a.length; i++) {
            if (out[i] != RgbImage.clampRound(a[i])) {
                return false;
            }
        }
        return true;
    }

    // Every kernel is one loop whose body calls only the Vector API (whose methods the JIT always
    // inlines). A helper method taking or returning vectors is inlined only while it is small
    // and not yet compiled on its own; once it is, every call boxes its vectors, which made the
    // loops slower than scalar ones in a test. So the rounding and floor steps are written out.

    /**
     * {@link Kernels#resampleRows} on S.length() rows at once, one row per lane: the rows' pixels
     * [colMin, colMin + cols) are copied transposed into a strip (pixel j of all the rows is one
     * vector), so that each output pixel is a sum of whole vectors times its scalar weights, as
     * in the vertical pass; the results are transposed back. This replaced one gather per tap and
     * 16 output pixels (the kernels' start indices step by the scale factor), which took most of
     * a 224 px view's augmentation; the two copies cost less than the gathers did. Every lane adds
     * the same products in the same order as the per-pixel loop, so the bits are the same.
     */
    static void resampleRows(float[] src, int[] rowStart, int step, int[] start, float[][] weights, int colMin,
            int cols, float[] dst) {
        int lanes = LANES;
        int n = start.length;
        float[] strip = Scratch.floats(Scratch.Slot.STRIP, Math.max(0, cols) * lanes);
        float[] out = Scratch.floats(Scratch.Slot.STRIP_OUT, n * lanes);
        for (int r0 = 0; r0 < rowStart.length; r0 += lanes) {
            int rows = Math.min(lanes, rowStart.length - r0); // the lanes past the last row are not stored
            for (int l = 0; l < rows; l++) {
                int at = rowStart[r0 + l] + step * colMin;
                // one loop per direction: with the step a variable the copy ran 2.5 times slower
                if (step == 1) {
                    for (int j = 0; j < cols; j++) {
                        strip[j * LANES + l] = src[at + j];
                    }
                } else {
                    for (int j = 0; j < cols; j++) {
                        strip[j * LANES + l] = src[at - j];
                    }
                }
            }
            for (int x = 0; x < n; x++) {
                float[] k = weights[x];
                int base = (start[x] - colMin) * lanes;
                FloatVector a = FloatVector.zero(S);
                for (int t = 0; t < k.length; t++) {
                    a = a.add(FloatVector.fromArray(S, strip, base + t * lanes).mul(k[t]));
                }
                FloatVector s = a.add(0.5f);
                FloatVector u = FloatVector.zero(S).blend(s, s.compare(VectorOperators.GE, 0f)).min(255f);
                FloatVector v = u.add(TWO_23).sub(TWO_23);
                v.sub(1f, v.compare(VectorOperators.GT, u)).intoArray(out, x * lanes);
            }
            for (int l = 0; l < rows; l++) {
                int to = (r0 + l) * n;
                for (int x = 0; x < n; x++) {
                    dst[to + x] = out[x * LANES + l];
                }
            }
        }
    }

    static void weightedRows(float[] src, int[] from, float[] w, int taps, int n, float[] dst, int to,
            boolean round) {
        int x = 0;
        for (int end = S.loopBound(n); x < end; x += S.length()) {
            FloatVector a = FloatVector.zero(S);
            for (int t = 0; t < taps; t++) {
                a = a.add(FloatVector.fromArray(S, src, from[t] + x).mul(w[t]));
            }
            if (round) {
                FloatVector s = a.add(0.5f);
                FloatVector u = FloatVector.zero(S).blend(s, s.compare(VectorOperators.GE, 0f)).min(255f);
                FloatVector v = u.add(TWO_23).sub(TWO_23);
                a = v.sub(1f, v.compare(VectorOperators.GT, u));
            }
            a.intoArray(dst, to + x);
        }
        Kernels.weightedRowsScalar(src, from, w, taps, n, dst, to, round, x);
    }

    static void scaleShift(float[] src, int from, float[] dst, int to, int n, float scale, float shift) {
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += S.length()) {
            FloatVector.fromArray(S, src, from + i).mul(scale).add(shift).intoArray(dst, to + i);
        }
        Kernels.scaleShiftScalar(src, from, dst, to, n, scale, shift, i);
    }

    static void blendRound(float[] d, float c, float f) {
        int i = 0;
        for (int end = S.loopBound(d.length); i < end; i += S.length()) {
            FloatVector s = FloatVector.fromArray(S, d, i).sub(c).mul(f).add(c).add(0.5f);
            FloatVector u = FloatVector.zero(S).blend(s, s.compare(VectorOperators.GE, 0f)).min(255f);
            FloatVector t = u.add(TWO_23).sub(TWO_23);
            t.sub(1f, t.compare(VectorOperators.GT, u)).intoArray(d, i);
        }
        Kernels.blendRoundScalar(d, c, f, i);
    }

    static void scaleRound(float[] d, float f) {
        int i = 0;
        for (int end = S.loopBound(d.length); i < end; i += S.length()) {
            FloatVector s = FloatVector.fromArray(S, d, i).mul(f).add(0.5f);
            FloatVector u = FloatVector.zero(S).blend(s, s.compare(VectorOperators.GE, 0f)).min(255f);
            FloatVector t = u.add(TWO_23).sub(TWO_23);
            t.sub(1f, t.compare(VectorOperators.GT, u)).intoArray(d, i);
        }
        Kernels.scaleRoundScalar(d, f, i);
    }

    /**
     * out[to + i] = PIL's luma of pixel i, for pixels in [0, 255]: (19595 R + 38470 G + 7471 B +
     * 2^15) >> 16 with R, G, B the channels' integer parts. In floats every product and partial
     * sum is an integer below 65536 x 256 = 2^24, so exact, and the division by 2^16 is exact
     * too; the integer parts are floors (the floor of 0 <= u < 2^23 as in the rounding of
     * {@link #weightedRows}).
     */
    static void lumaInto(float[] d, int n, float[] out, int to) {
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += S.length()) {
            FloatVector r = FloatVector.fromArray(S, d, i);
            FloatVector g = FloatVector.fromArray(S, d, n + i);
            FloatVector b = FloatVector.fromArray(S, d, 2 * n + i);
            FloatVector tr = r.add(TWO_23).sub(TWO_23);
            FloatVector tg = g.add(TWO_23).sub(TWO_23);
            FloatVector tb = b.add(TWO_23).sub(TWO_23);
            tr = tr.sub(1f, tr.compare(VectorOperators.GT, r));
            tg = tg.sub(1f, tg.compare(VectorOperators.GT, g));
            tb = tb.sub(1f, tb.compare(VectorOperators.GT, b));
            FloatVector l = tr.mul(19595f).add(tg.mul(38470f)).add(tb.mul(7471f)).add(32768f).mul(1f / 65536);
            FloatVector t = l.add(TWO_23).sub(TWO_23);
            t.sub(1f, t.compare(VectorOperators.GT, l)).intoArray(out, to + i);
        }
        for (; i < n; i++) {
            out[to + i] = Kernels.luma(d[i], d[n + i], d[2 * n + i]);
        }
    }

    static double lumaSum(float[] d, int n) {
        float[] l = Scratch.floats(Scratch.Slot.LUMA, n);
        lumaInto(d, n, l, 0);
        // each lane sum is an integer below 16 x 256, exact in float, and the double total is exact
        double sum = 0;
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += S.length()) {
            sum += FloatVector.fromArray(S, l, i).reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            sum += l[i];
        }
        return sum;
    }

    /** Each channel blended with the pixel's luma: round(l + f (v - l)). */
    static void saturate(float[] d, int n, float f) {
        float[] l = Scratch.floats(Scratch.Slot.LUMA, n);
        lumaInto(d, n, l, 0);
        for (int c = 0; c < 3; c++) {
            int at = c * n;
            int i = 0;
            for (int end = S.loopBound(n); i < end; i += S.length()) {
                FloatVector lv = FloatVector.fromArray(S, l, i);
                FloatVector s = FloatVector.fromArray(S, d, at + i).sub(lv).mul(f).add(lv).add(0.5f);
                FloatVector u = FloatVector.zero(S).blend(s, s.compare(VectorOperators.GE, 0f)).min(255f);
                FloatVector t = u.add(TWO_23).sub(TWO_23);
                t.sub(1f, t.compare(VectorOperators.GT, u)).intoArray(d, at + i);
            }
            for (; i < n; i++) {
                d[at + i] = RgbImage.clampRound(l[i] + f * (d[at + i] - l[i]));
            }
        }
    }

    static void grayscale(float[] d, int n) {
        lumaInto(d, n, d, 0);
        System.arraycopy(d, 0, d, n, n);
        System.arraycopy(d, 0, d, 2 * n, n);
    }

    /**
     * {@link Kernels#hueScalar} on 16 (or 8) pixels at once: all three hue formulas, the one the
     * scalar branch would take selected per lane, the same float operations on it; the sector's
     * output permutation by blends; grey lanes (delta 0, whose divisions gave NaN) keep their
     * values. floor(h) for |h| < 2 via 1.5 x 2^23, where floats are integers.
     */
    static void hue(float[] d, int n, float turn) {
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += S.length()) {
            FloatVector r = FloatVector.fromArray(S, d, i);
            FloatVector g = FloatVector.fromArray(S, d, n + i);
            FloatVector b = FloatVector.fromArray(S, d, 2 * n + i);
            FloatVector max = r.max(g.max(b));
            FloatVector min = r.min(g.min(b));
            FloatVector delta = max.sub(min);
            VectorMask<Float> chroma = delta.compare(VectorOperators.NE, 0f);
            if (!chroma.anyTrue()) {
                continue;
            }
            VectorMask<Float> maxR = max.compare(VectorOperators.EQ, r);
            VectorMask<Float> maxG = max.compare(VectorOperators.EQ, g).andNot(maxR);
            // one division: the scalar branch's numerator divided, then its offset added (x + 0 is x
            // for every x but -0, which g - b = 0 does not give: it is +0)
            FloatVector h = r.sub(g).blend(b.sub(r), maxG).blend(g.sub(b), maxR).div(delta)
                    .add(FOUR.blend(TWO, maxG).blend(FloatVector.zero(S), maxR));
            h = h.div(6f).add(turn);
            FloatVector fl = h.add(1.5f * TWO_23).sub(1.5f * TWO_23);
            h = h.sub(fl.sub(1f, fl.compare(VectorOperators.GT, h)));
            FloatVector h6 = h.mul(6f);
            FloatVector sector = h6.add(TWO_23).sub(TWO_23);
            sector = sector.sub(1f, sector.compare(VectorOperators.GT, h6)).min(5f);
            FloatVector f = h6.sub(sector);
            FloatVector qs = max.sub(delta.mul(f)).add(0.5f);
            FloatVector qu = FloatVector.zero(S).blend(qs, qs.compare(VectorOperators.GE, 0f)).min(255f);
            FloatVector q = qu.add(TWO_23).sub(TWO_23);
            q = q.sub(1f, q.compare(VectorOperators.GT, qu));
            FloatVector ts = min.add(delta.mul(f)).add(0.5f);
            FloatVector tu = FloatVector.zero(S).blend(ts, ts.compare(VectorOperators.GE, 0f)).min(255f);
            FloatVector t = tu.add(TWO_23).sub(TWO_23);
            t = t.sub(1f, t.compare(VectorOperators.GT, tu));
            VectorMask<Float> s0 = sector.compare(VectorOperators.EQ, 0f);
            VectorMask<Float> s1 = sector.compare(VectorOperators.EQ, 1f);
            VectorMask<Float> s2 = sector.compare(VectorOperators.EQ, 2f);
            VectorMask<Float> s3 = sector.compare(VectorOperators.EQ, 3f);
            VectorMask<Float> s4 = sector.compare(VectorOperators.EQ, 4f);
            VectorMask<Float> s5 = sector.compare(VectorOperators.EQ, 5f);
            FloatVector rr = min.blend(max, s0.or(s5)).blend(q, s1).blend(t, s4);
            FloatVector gg = min.blend(t, s0).blend(max, s1.or(s2)).blend(q, s3);
            FloatVector bb = min.blend(t, s2).blend(max, s3.or(s4)).blend(q, s5);
            r.blend(rr, chroma).intoArray(d, i);
            g.blend(gg, chroma).intoArray(d, n + i);
            b.blend(bb, chroma).intoArray(d, 2 * n + i);
        }
        Kernels.hueScalar(d, n, turn, i);
    }
}
