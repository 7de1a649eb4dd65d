package siameseim.datasets.synthetic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import siameseim.datasets.image.RgbImage;

class SyntheticShapesTest {

    @Test
    void deterministicInSeedClassAndIndex() {
        assertArrayEquals(new SyntheticShapes(48, 7).render(3, 11).toPacked(),
                new SyntheticShapes(48, 7).render(3, 11).toPacked());
        assertTrue(!java.util.Arrays.equals(new SyntheticShapes(48, 7).render(3, 11).toPacked(),
                new SyntheticShapes(48, 7).render(3, 12).toPacked()));
    }

    @Test
    void tenDistinctClassesWithDistinctNames() {
        java.util.Set<String> names = new java.util.HashSet<>();
        for (int c = 0; c < 10; c++) {
            names.add(SyntheticShapes.className(c));
        }
        assertEquals(10, names.size());
    }

    @Test
    void theObjectIsClearlyLighterOrDarkerThanItsBackground() {
        // the renderer's ranges: background value 0.35-0.8, lift 0.3-0.6
        for (int i = 0; i <= 45; i++) {
            double background = 0.35 + i * 0.01;
            for (int j = 0; j <= 30; j++) {
                double lift = 0.3 + j * 0.01;
                for (boolean lighter : new boolean[] {true, false}) {
                    double v = SyntheticShapes.objectValue(background, lift, lighter);
                    String at = "background " + background + ", lift " + lift + ", lighter " + lighter + ": " + v;
                    assertTrue(v >= 0 && v <= 1, at);
                    assertTrue(Math.abs(v - background) >= 0.3 - 1e-9, at);
                    boolean fitsAsked = lighter ? background + lift <= 1 : background - lift >= 0.05;
                    if (fitsAsked) {
                        assertEquals(lighter, v > background, at);
                        assertEquals(lift, Math.abs(v - background), 1e-12, at);
                    }
                }
            }
        }
    }

    @Test
    void coloursAreTintedGreysAndImagesAreNotFlat() {
        java.util.List<Float> contrasts = new java.util.ArrayList<>();
        double maxSpread = 0;
        for (int c = 0; c < 10; c++) {
            for (int k = 0; k < 10; k++) {
                RgbImage img = new SyntheticShapes(64, 1).render(c, k);
                float[] d = img.data();
                int n = 64 * 64;
                float min = 255;
                float max = 0;
                for (int i = 0; i < n; i++) {
                    float r = d[i];
                    float g = d[n + i];
                    float b = d[2 * n + i];
                    maxSpread = Math.max(maxSpread, Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)));
                    min = Math.min(min, Math.min(r, Math.min(g, b)));
                    max = Math.max(max, Math.max(r, Math.max(g, b)));
                }
                contrasts.add(max - min);
            }
        }
        // a colour of saturation s and value v spreads its channels by s * v; mixing, blending and
        // the grey noise do not widen it (rounding adds at most 1)
        assertTrue(maxSpread <= SyntheticShapes.TINT * 255 + 1, "channel spread " + maxSpread);
        java.util.Collections.sort(contrasts);
        assertTrue(contrasts.get(0) > 20, "the flattest image's range " + contrasts.get(0));
        assertTrue(contrasts.get(50) > 80, "the median range " + contrasts.get(50));
    }
}
