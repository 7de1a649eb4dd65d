package siameseim.datasets.augment;

/**
 * Per-thread work arrays for the intermediate results of the augmentation (the resampler's
 * horizontal pass, the blur's first pass, luma planes), reused from call to call. Fresh arrays
 * of these sizes cost more than the work in them: a 224 px view allocated about 2 MB of them,
 * and Java zeroes every new array. The callers write every element they read. Arrays above
 * {@link #KEPT_FLOATS} (images far above training sizes) are not kept.
 */
final class Scratch {
    /** The uses, one array each: a call may hold several of them at once, never one twice. */
    enum Slot { RESAMPLED_ROWS, STRIP, STRIP_OUT, BLUR, LUMA, VIEW_RGB, VIEW_GREY }

    static final int KEPT_FLOATS = 1 << 22;
    private static final ThreadLocal<float[][]> ARRAYS =
            ThreadLocal.withInitial(() -> new float[Slot.values().length][]);

    private Scratch() {}

    /** This thread's array for {@code slot}, at least {@code n} long, contents undefined. */
    static float[] floats(Slot slot, int n) {
        float[][] arrays = ARRAYS.get();
        float[] a = arrays[slot.ordinal()];
        if (a == null || a.length < n) {
            a = new float[n];
            if (n <= KEPT_FLOATS) {
                arrays[slot.ordinal()] = a;
            }
        }
        return a;
    }

    /** This thread's array for {@code slot}, exactly {@code n} long (an image's pixels), contents undefined. */
    static float[] floatsExactly(Slot slot, int n) {
        float[][] arrays = ARRAYS.get();
        float[] a = arrays[slot.ordinal()];
        if (a == null || a.length != n) {
            a = new float[n];
            if (n <= KEPT_FLOATS) {
                arrays[slot.ordinal()] = a;
            }
        }
        return a;
    }
}
