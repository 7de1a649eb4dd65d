package siameseim.datasets.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import siameseim.model.nn.Torch;
import siameseim.model.siameseim.RelativeEmbedding;

/**
 * Spec 1.2: for all four flip combinations, the six geometry scalars, through the relative query
 * embedding, place the centre of every view-2 patch where a direct pixel computation puts it in
 * view 1's patch-index frame.
 */
class ViewGeometryTest {

    @Test
    void queriesLandOnTheDirectPixelMappingForAllFlips() {
        Torch.init(1);
        int grid = 7;
        int imageW = 300;
        int imageH = 220;
        SplittableRandom rng = new SplittableRandom(5);
        try (NDManager m = NDManager.newBaseManager()) {
            for (int trial = 0; trial < 40; trial++) {
                boolean flip1 = (trial & 1) == 1;
                boolean flip2 = (trial & 2) == 2;
                CropBox b1 = RandomResizedCrop.sample(imageW, imageH, new double[] {0.08, 1},
                        new double[] {0.75, 4 / 3.0}, rng);
                CropBox b2 = RandomResizedCrop.sample(imageW, imageH, new double[] {0.08, 1},
                        new double[] {0.75, 4 / 3.0}, rng);
                float[] g = new float[6];
                ViewGeometry.of(b1, flip1, b2, flip2, imageW).writeTo(g, 0);
                // Dd = 8: frequencies [1, 0.01]; the 0.01 entries give y and x back unambiguously
                NDArray e = RelativeEmbedding.embed(m.create(g, new Shape(1, 6)), grid, 8);
                float[] v = e.toFloatArray();
                for (int r = 0; r < grid; r++) {
                    for (int c = 0; c < grid; c++) {
                        int t = r * grid + c;
                        double y = Math.atan2(v[t * 16 + 1], v[t * 16 + 3]) / 0.01;
                        double x = Math.atan2(v[t * 16 + 5], v[t * 16 + 7]) / 0.01;
                        // centre of view-2 patch (r, c), in pixels of the flipped image 2
                        double px2 = b2.left() + (c + 0.5) * b2.width() / grid;
                        double py = b2.top() + (r + 0.5) * b2.height() / grid;
                        double pxOriginal = flip2 ? imageW - px2 : px2;
                        double px1 = flip1 ? imageW - pxOriginal : pxOriginal;
                        double expectX = (px1 - b1.left()) / b1.width() * grid - 0.5;
                        double expectY = (py - b1.top()) / b1.height() * grid - 0.5;
                        String where = "flips " + flip1 + "/" + flip2 + " patch " + r + "," + c;
                        assertEquals(expectY, y, 2e-3, where);
                        assertEquals(expectX, x, 2e-3, where);
                    }
                }
            }
        }
    }

    @Test
    void cropsStayInsideTheImageAndFollowTheScaleRange() {
        SplittableRandom rng = new SplittableRandom(1);
        double areaSum = 0;
        double minArea = 1;
        int n = 20000;
        for (int i = 0; i < n; i++) {
            CropBox b = RandomResizedCrop.sample(500, 375, new double[] {0.2, 1}, new double[] {0.75, 4 / 3.0}, rng);
            assertEquals(true, b.top() >= 0 && b.left() >= 0 && b.top() + b.height() <= 375
                    && b.left() + b.width() <= 500, b.toString());
            double area = b.width() * (double) b.height() / (500 * 375);
            areaSum += area;
            minArea = Math.min(minArea, area);
        }
        // accepted draws: area fraction in [0.2, 1] up to rounding; large areas with extreme aspect
        // ratios do not fit the image and are redrawn, which pulls the mean below 0.6
        assertEquals(true, minArea > 0.19, "smallest crop " + minArea);
        double mean = areaSum / n;
        assertEquals(true, mean > 0.45 && mean < 0.6, "mean area fraction " + mean);
    }
}
