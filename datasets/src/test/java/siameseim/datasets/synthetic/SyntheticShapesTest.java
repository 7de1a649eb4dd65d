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
    void imagesAreNotFlatAndUseTheRange() {
        RgbImage img = new SyntheticShapes(64, 1).render(0, 0);
        float min = 255;
        float max = 0;
        for (float v : img.data()) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertTrue(max - min > 80, "contrast " + (max - min));
    }
}
