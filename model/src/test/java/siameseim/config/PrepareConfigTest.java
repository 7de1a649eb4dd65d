package siameseim.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PrepareConfigTest {

    private static PrepareConfig load(String... more) {
        List<String> sets = new ArrayList<>(List.of("prepare.input=/in", "prepare.output=/out"));
        sets.addAll(List.of(more));
        return PrepareConfig.from(ConfigLoader.load(null, sets));
    }

    private static String error(String... more) {
        ConfigError e = assertThrows(ConfigError.class, () -> load(more));
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void theHeldOutFractionOfAnUnlabelledInputIsRead() {
        assertEquals(0.0, load().heldOut(), "default: nothing held out");
        assertEquals(0.25, load("prepare.layout=unlabelled", "prepare.held-out=0.25").heldOut());
    }

    @Test
    void aHeldOutFractionOutsideZeroToOneIsRefusedNamingKeyAndValue() {
        for (String bad : List.of("1", "1.5", "-0.1")) {
            String m = error("prepare.layout=unlabelled", "prepare.held-out=" + bad);
            assertTrue(m.contains("'prepare.held-out'") && m.contains("value " + bad) && m.contains("[0, 1)"), m);
        }
        String m = error("prepare.layout=unlabelled", "prepare.held-out=half");
        assertTrue(m.contains("'prepare.held-out'") && m.contains("half") && m.contains("a number"), m);
    }

    @Test
    void aHeldOutFractionNeedsTheUnlabelledLayoutAndTheValSplit() {
        String m = error("prepare.layout=imagenet", "prepare.held-out=0.1");
        assertTrue(m.contains("'prepare.held-out'") && m.contains("prepare.layout = unlabelled"), m);
        m = error("prepare.layout=unlabelled", "prepare.held-out=0.1", "prepare.splits=[train]");
        assertTrue(m.contains("'prepare.held-out'") && m.contains("leaves out"), m);
    }

    @Test
    void tableColumnsAndWebDatasetLabelsAreReadAndBlankNamesRefused() {
        PrepareConfig d = load();
        assertEquals(new PrepareConfig.Table(null, null, null, "split", false), d.table(), "auto: the table decides");
        assertEquals(new PrepareConfig.WebDataset(null, null), d.webdataset(), "labels from KEY.cls");
        PrepareConfig c = load("prepare.layout=webdataset", "prepare.table.image-column=content",
                "prepare.table.label-from-path=true", "prepare.webdataset.label-field=meta.label",
                "prepare.webdataset.val-shards=\"s3a://b/val-{0..9}.tar\"");
        assertEquals(PrepareConfig.Layout.WEBDATASET, c.layout());
        assertEquals("content", c.table().imageColumn());
        assertTrue(c.table().labelFromPath());
        assertEquals(new PrepareConfig.WebDataset("meta.label", "s3a://b/val-{0..9}.tar"), c.webdataset());
        assertEquals(PrepareConfig.Layout.ILSVRC, load("prepare.layout=ilsvrc").layout());
        String m = error("prepare.table.key-column=\" \"");
        assertTrue(m.contains("'prepare.table.key-column'") && m.contains("auto"), m);
        m = error("prepare.webdataset.label-field=\"\"");
        assertTrue(m.contains("'prepare.webdataset.label-field'"), m);
        m = error("prepare.layout=tars");
        assertTrue(m.contains("webdataset") && m.contains("ilsvrc"), m);
    }
}
