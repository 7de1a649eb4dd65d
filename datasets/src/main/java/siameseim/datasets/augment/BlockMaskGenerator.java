package siameseim.datasets.augment;

import java.util.SplittableRandom;
import siameseim.config.MaskConfig;

/**
 * BEiT-style block-wise masking with an exact count (spec 1.3): rectangles of random area in
 * [min-block, budget] and log-uniform aspect are added until the target is reached, then the
 * remainder is filled with random single cells, so every image has exactly {@code count} masked
 * patches and the visible tokens can be gathered as a dense (B, Lv) batch.
 */
public final class BlockMaskGenerator {
    private final int grid;
    private final int count;
    private final int minBlock;
    private final int maxBlock;
    private final double logAspectMin;
    private final double logAspectMax;

    public BlockMaskGenerator(int grid, MaskConfig cfg) {
        this(grid, cfg.count(), cfg.minBlock(), cfg.maxBlock(), cfg.minAspect());
    }

    public BlockMaskGenerator(int grid, int count, int minBlock, int maxBlock, double minAspect) {
        if (count >= grid * grid) {
            throw new IllegalArgumentException("mask count " + count + " must be below " + grid * grid);
        }
        this.grid = grid;
        this.count = count;
        this.minBlock = minBlock;
        this.maxBlock = maxBlock;
        this.logAspectMin = Math.log(minAspect);
        this.logAspectMax = Math.log(1 / minAspect);
    }

    public int count() {
        return count;
    }

    public int visibleCount() {
        return grid * grid - count;
    }

    /** A new mask, raster order, true = masked; exactly {@link #count()} true entries. */
    public boolean[] next(SplittableRandom rng) {
        boolean[] mask = new boolean[grid * grid];
        int masked = 0;
        while (masked < count) {
            int budget = Math.min(count - masked, maxBlock);
            int delta = 0;
            for (int attempt = 0; attempt < 10 && delta == 0; attempt++) {
                delta = tryBlock(mask, budget, rng);
            }
            if (delta == 0) {
                break;
            }
            masked += delta;
        }
        // fill what the rectangles could not place with random single cells
        while (masked < count) {
            int cell = rng.nextInt(grid * grid);
            if (!mask[cell]) {
                mask[cell] = true;
                masked++;
            }
        }
        return mask;
    }

    private int tryBlock(boolean[] mask, int budget, SplittableRandom rng) {
        // U(a, b) = a + (b - a) u, also when b < a (as Python's random.uniform)
        double area = minBlock + (budget - minBlock) * rng.nextDouble();
        double aspect = Math.exp(logAspectMin + (logAspectMax - logAspectMin) * rng.nextDouble());
        int h = (int) Math.rint(Math.sqrt(area * aspect));
        int w = (int) Math.rint(Math.sqrt(area / aspect));
        if (h >= grid || w >= grid) {
            return 0;
        }
        int top = rng.nextInt(grid - h + 1);
        int left = rng.nextInt(grid - w + 1);
        int already = 0;
        for (int r = top; r < top + h; r++) {
            for (int c = left; c < left + w; c++) {
                if (mask[r * grid + c]) {
                    already++;
                }
            }
        }
        int added = h * w - already;
        if (added <= 0 || added > budget) {
            return 0;
        }
        for (int r = top; r < top + h; r++) {
            for (int c = left; c < left + w; c++) {
                mask[r * grid + c] = true;
            }
        }
        return added;
    }

    /** The unmasked positions of {@code mask} in raster order. */
    public static int[] visible(boolean[] mask) {
        int n = 0;
        for (boolean b : mask) {
            if (!b) {
                n++;
            }
        }
        int[] out = new int[n];
        int k = 0;
        for (int i = 0; i < mask.length; i++) {
            if (!mask[i]) {
                out[k++] = i;
            }
        }
        return out;
    }
}
