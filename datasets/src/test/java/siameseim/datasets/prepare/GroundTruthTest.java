package siameseim.datasets.prepare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.datasets.testing.TestImages;

/**
 * Validation labels from ImageNet's devkit (a devkit-shaped fixture whose meta.mat scipy wrote,
 * fixtures/devkit/make-devkit.py), from Kaggle's CSV, and the MAT-file reader itself.
 */
class GroundTruthTest {
    static final Set<String> CLASSES = Set.of("n01440764", "n01443537", "n02100735", "n02119789");

    @Test
    void theDevkitMapsEachValidationImageThroughMetaMat(@TempDir Path tmp) throws IOException {
        Path devkit = tmp.resolve("ILSVRC2012_devkit_t12.tar.gz");
        Files.write(devkit, TestImages.fixture("devkit/ILSVRC2012_devkit_t12.tar.gz"));
        Map<String, String> labels = GroundTruth.devkit(new Configuration(),
                new org.apache.hadoop.fs.Path(devkit.toUri()), CLASSES);
        assertEquals(Map.of("ILSVRC2012_val_00000001.JPEG", "n01440764", "ILSVRC2012_val_00000002.JPEG", "n02119789",
                "ILSVRC2012_val_00000003.JPEG", "n01443537", "ILSVRC2012_val_00000004.JPEG", "n01443537",
                "ILSVRC2012_val_00000005.JPEG", "n02100735", "ILSVRC2012_val_00000006.JPEG", "n02119789"), labels);
        IOException e = assertThrows(IOException.class, () -> GroundTruth.devkit(new Configuration(),
                new org.apache.hadoop.fs.Path(devkit.toUri()), Set.of("n01440764")));
        assertTrue(e.getMessage().contains("not a class"), e.getMessage());
    }

    @Test
    void matFilesCompressedOrNotGiveTheSameStructArray() throws IOException {
        Object plain = MatFile.read(TestImages.fixture("devkit/meta-uncompressed.mat"), "meta.mat").get("synsets");
        List<?> synsets = (List<?>) plain;
        assertEquals(5, synsets.size());
        Map<?, ?> fox = (Map<?, ?>) synsets.get(0);
        assertEquals(List.of("ILSVRC2012_ID", "WNID", "words", "gloss", "num_children", "children", "wordnet_height",
                "num_train_images"), List.copyOf(fox.keySet()));
        assertArrayEquals(new double[] {1}, (double[]) fox.get("ILSVRC2012_ID"));
        assertEquals("n02119789", fox.get("WNID"));
        assertEquals("kit fox, Vulpes macrotis", fox.get("words"));
        assertArrayEquals(new double[] {3, 4}, (double[]) ((Map<?, ?>) synsets.get(4)).get("children"));
        assertArrayEquals(new double[0], (double[]) fox.get("children"), "an empty array");
        IOException e = assertThrows(IOException.class, () -> MatFile.read(new byte[200], "zeros.mat"));
        assertTrue(e.getMessage().contains("zeros.mat"), e.getMessage());
    }

    @Test
    void kaggleSolutionsNameTheFirstWnidOfEachPrediction(@TempDir Path tmp) throws IOException {
        Path csv = tmp.resolve("LOC_val_solution.csv");
        Files.writeString(csv, "ImageId,PredictionString\nILSVRC2012_val_00008726,n02119789 255 142 454 329 n02119789"
                + " 44 21 322 295\nILSVRC2012_val_00000001,n01440764 1 2 3 4\n");
        assertEquals(Map.of("ILSVRC2012_val_00008726.JPEG", "n02119789", "ILSVRC2012_val_00000001.JPEG", "n01440764"),
                GroundTruth.kaggle(new Configuration(), new org.apache.hadoop.fs.Path(csv.toUri()), CLASSES));
    }
}
