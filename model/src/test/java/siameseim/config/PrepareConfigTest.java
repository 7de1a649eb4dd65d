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
}
