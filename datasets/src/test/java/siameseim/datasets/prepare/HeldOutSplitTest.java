package siameseim.datasets.prepare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The held-out split of an unlabelled tree (prepare.held-out): a seeded draw per file. */
class HeldOutSplitTest {
    private static final Configuration CONF = new Configuration();
    private static final int FILES = 300;
    private static final int KEYS = 20_000;

    @TempDir
    static Path tmp;
    static Path tree;

    /** 300 files at depths 1 to 3 (the listing reads names and sizes, not contents). */
    @BeforeAll
    static void writeTree() throws IOException {
        tree = tmp.resolve("tree");
        for (int i = 0; i < FILES; i++) {
            Path p = tree.resolve(switch (i % 3) {
                case 0 -> "img" + i + ".jpg";
                case 1 -> "site" + i % 7 + "/img" + i + ".png";
                default -> "site" + i % 5 + "/scan" + i % 11 + "/img" + i + ".jpg";
            });
            Files.createDirectories(p.getParent());
            Files.write(p, new byte[] {(byte) i});
        }
    }

    private static SourceListing list(Path root, double fraction, long seed) throws IOException {
        return SourceListing.unlabelled(CONF, new org.apache.hadoop.fs.Path(root.toUri()), fraction, seed);
    }

    private static Set<String> keys(SourceListing l, String split) {
        return l.files().stream().filter(f -> f.split().equals(split)).map(SourceFile::key).collect(Collectors.toSet());
    }

    /** Keys like a tree's paths, for the draw alone (listing a tree is slower than drawing). */
    private static Set<String> drawn(double fraction, long seed) {
        Set<String> out = new HashSet<>();
        for (int i = 0; i < KEYS; i++) {
            String key = "site" + i % 13 + "/scan" + i % 101 + "/img" + i + ".jpg";
            if (SourceListing.heldOut(key, fraction, seed)) {
                out.add(key);
            }
        }
        return out;
    }

    @Test
    void theHeldOutFractionIsRespected() {
        for (double fraction : new double[] {0.01, 0.05, 0.2, 0.5, 0.9}) {
            for (long seed = 0; seed < 3; seed++) {
                int n = drawn(fraction, seed).size();
                // Binomial(20 000, f): within 4 standard deviations
                double sd = Math.sqrt(KEYS * fraction * (1 - fraction));
                assertTrue(Math.abs(n - KEYS * fraction) < 4 * sd, fraction + ", seed " + seed + ": " + n);
            }
        }
    }

    @Test
    void theSameSeedHoldsOutTheSameImagesAndAnotherSeedOthers() {
        Set<String> a = drawn(0.2, 7);
        assertEquals(a, drawn(0.2, 7));
        Set<String> b = drawn(0.2, 8);
        Set<String> both = new HashSet<>(a);
        both.retainAll(b);
        // independent draws share about f^2 of the keys (800 of 20 000), against the 4 000 each holds out
        double sd = Math.sqrt(KEYS * 0.04 * 0.96);
        assertTrue(Math.abs(both.size() - KEYS * 0.04) < 4 * sd, both.size() + " of " + a.size() + " under both");
    }

    @Test
    void theListingPutsTheDrawnFilesInValAndTheRestInTrain() throws IOException {
        SourceListing l = list(tree, 0.3, 11);
        Set<String> val = keys(l, "val");
        Set<String> train = keys(l, "train");
        assertEquals(FILES, train.size() + val.size());
        assertTrue(val.stream().noneMatch(train::contains));
        assertTrue(val.stream().allMatch(k -> SourceListing.heldOut(k, 0.3, 11)));
        assertTrue(train.stream().noneMatch(k -> SourceListing.heldOut(k, 0.3, 11)));
        assertTrue(val.size() > 50 && val.size() < 130, val.size() + " of 300 held out at 0.3");
        assertEquals(val, keys(list(tree, 0.3, 11), "val"), "the same tree and seed");
        assertNotEquals(val, keys(list(tree, 0.3, 12), "val"), "another seed");
        assertEquals(List.of(), l.missingSplits());
        assertEquals(List.of(), l.classes());
        assertTrue(l.files().stream().allMatch(f -> f.wnid() == null), "unlabelled");
        // grouped by split, train first: the stored row order permutes each split on its own
        assertTrue(l.files().subList(0, train.size()).stream().allMatch(f -> f.split().equals("train")));
    }

    @Test
    void aFileStaysInItsSplitWhenTheTreeGrows(@TempDir Path other) throws IOException {
        Set<String> before = keys(list(tree, 0.2, 3), "val");
        Path grown = other.resolve("tree");
        for (Path f : Files.walk(tree).filter(Files::isRegularFile).toList()) {
            Path to = grown.resolve(tree.relativize(f).toString());
            Files.createDirectories(to.getParent());
            Files.copy(f, to);
        }
        for (int i = 0; i < 100; i++) {
            Path p = grown.resolve("new/img" + i + ".jpg");
            Files.createDirectories(p.getParent());
            Files.write(p, new byte[] {1});
        }
        Set<String> after = keys(list(grown, 0.2, 3), "val");
        assertEquals(before, after.stream().filter(k -> !k.startsWith("new/")).collect(Collectors.toSet()));
    }

    @Test
    void noFractionMeansNoValSplit() throws IOException {
        SourceListing l = list(tree, 0, 0);
        assertEquals(FILES, keys(l, "train").size());
        assertEquals(Set.of(), keys(l, "val"));
        assertEquals(List.of("val"), l.missingSplits());
    }

    @Test
    void aFractionThatLeavesNothingToTrainOnIsAnError(@TempDir Path one) throws IOException {
        Files.write(one.resolve("only.jpg"), new byte[] {1});
        // a seed that draws the one image into val
        long seed = 0;
        while (!SourceListing.heldOut("only.jpg", 0.5, seed)) {
            seed++;
        }
        long s = seed;
        IOException e = assertThrows(IOException.class, () -> list(one, 0.5, s));
        assertTrue(e.getMessage().contains("prepare.held-out = 0.5 drew all 1 images into val"), e.getMessage());
    }
}
