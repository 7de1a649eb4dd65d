package siameseim.datasets.fashionmnist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.datasets.image.PackedImages;
import siameseim.datasets.image.RgbImage;

/** Reads the real files of the Debian package dataset-fashion-mnist (.ci/run installs it). */
class FashionMnistTest {

    @Test
    void readsTheDebianPackagesTestSplit() throws IOException {
        assertTrue(Files.isDirectory(FashionMnist.DEBIAN_PATH),
                "install the Debian package dataset-fashion-mnist (.ci/run does)");
        PackedImages imgs = FashionMnist.load(FashionMnist.DEBIAN_PATH, "t10k", 36, 500);
        assertEquals(500, imgs.size());
        int[] perClass = new int[10];
        for (int i = 0; i < imgs.size(); i++) {
            perClass[imgs.label(i)]++;
        }
        for (int c = 0; c < 10; c++) {
            assertTrue(perClass[c] > 20, "class " + c + " has " + perClass[c]);
        }
        // the first test image is an ankle boot (label 9) on a black background
        assertEquals(9, imgs.label(0));
        RgbImage first = imgs.image(0);
        assertEquals(36, first.width());
        assertEquals(0f, first.get(0, 0, 0));
        assertEquals(first.get(0, 20, 20), first.get(2, 20, 20), "grey replicated to RGB");
    }

    @Test
    void missingFilesAreNamed(@TempDir Path dir) {
        IOException e = assertThrows(IOException.class, () -> FashionMnist.load(dir, "train", 28, 10));
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte") && e.getMessage().contains(dir.toString()),
                e.getMessage());
    }

    @Test
    void truncatedImageFileIsReported(@TempDir Path dir) throws IOException {
        java.nio.ByteBuffer img = java.nio.ByteBuffer.allocate(16 + 28 * 28);
        img.putInt(2051).putInt(5).putInt(28).putInt(28);
        java.nio.ByteBuffer lab = java.nio.ByteBuffer.allocate(8 + 5);
        lab.putInt(2049).putInt(5);
        Files.write(dir.resolve("train-images-idx3-ubyte"), img.array());
        Files.write(dir.resolve("train-labels-idx1-ubyte"), lab.array());
        IOException e = assertThrows(IOException.class, () -> FashionMnist.load(dir, "train", 28, 0));
        assertTrue(e.getMessage().contains("truncated at image 1 of 5"), e.getMessage());
    }
}
