package siameseim.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    private static String error(String conf, String... overrides) {
        ConfigError e = assertThrows(ConfigError.class, () -> ConfigLoader.loadPretrain(conf, List.of(overrides)));
        return e.getMessage();
    }

    @Test
    void defaultsAreThePaperRecipe() {
        PretrainConfig c = ConfigLoader.loadPretrain(null, List.of());
        assertEquals(224, c.model().imageSize());
        assertEquals(196, c.model().tokens());
        assertEquals(118, c.mask().count());
        assertEquals(1e-3, c.optim().peakLr(), 1e-12, "6.25e-5 x 4096 / 256");
        assertEquals(0.95, c.optim().beta2());
        assertEquals(0.995, c.ema().momentum());
        assertEquals(ModelConfig.NormKind.BATCH, c.model().decoder().norm());
    }

    @Test
    void bundledConfigsLoadByName() {
        PretrainConfig demo = ConfigLoader.loadPretrain("pretrain-demo.conf", List.of());
        assertEquals(32, demo.model().imageSize());
        assertEquals(64, demo.model().tokens());
        assertEquals(38, demo.mask().count());
        assertEquals(128, demo.optim().batchSize());
        assertEquals(1e-3, demo.optim().peakLr());
        PretrainConfig b16 = ConfigLoader.loadPretrain("pretrain-vit-b16.conf", List.of());
        assertEquals(768, b16.model().decoder().width());
        assertEquals(4, b16.model().decoder().predictorDepth());
        assertEquals(1600, b16.optim().epochs());
    }

    @Test
    void overridesWinAndParseTypes() {
        PretrainConfig c = ConfigLoader.loadPretrain("pretrain-demo.conf",
                List.of("optim.lr=2e-3", "model.decoder.norm=layer", "augment.crop-scale=[0.3, 1.0]"));
        assertEquals(2e-3, c.optim().peakLr());
        assertEquals(ModelConfig.NormKind.LAYER, c.model().decoder().norm());
        assertEquals(0.3, c.augment().cropScale()[0]);
    }

    @Test
    void loaderPriorityIsIdleOnCpuReplicasByDefault() {
        DataConfig d = ConfigLoader.loadPretrain("pretrain-demo.conf", List.of()).data();
        assertTrue(d.idleLoader(true));
        assertTrue(!d.idleLoader(false), "a GPU replica's loader keeps normal priority");
        DataConfig normal = ConfigLoader.loadPretrain("pretrain-demo.conf", List.of("data.loader-priority=normal")).data();
        assertTrue(!normal.idleLoader(true));
        String msg = error(null, "data.loader-priority=low");
        assertTrue(msg.contains("data.loader-priority") && msg.contains("auto, idle, normal"), msg);
    }

    @Test
    void threadPinningIsAutoByDefaultAndCanBeSwitchedOff() {
        assertEquals(PretrainConfig.PinThreads.AUTO,
                ConfigLoader.loadPretrain("pretrain-demo.conf", List.of()).train().pinThreads());
        assertEquals(PretrainConfig.PinThreads.OFF,
                ConfigLoader.loadPretrain("pretrain-demo.conf", List.of("train.pin-threads=off")).train().pinThreads());
        assertEquals(PretrainConfig.PinThreads.CONFINE, ConfigLoader.loadPretrain("pretrain-demo.conf",
                List.of("train.pin-threads=confine")).train().pinThreads());
        String msg = error(null, "train.pin-threads=numa");
        assertTrue(msg.contains("train.pin-threads") && msg.contains("auto, confine, off"), msg);
    }

    @Test
    void unknownKeyIsNamedWithItsSiblings() {
        String msg = error(null, "model.encoder.widht=64");
        assertTrue(msg.contains("unknown config key 'model.encoder.widht'"), msg);
        assertTrue(msg.contains("width"), msg);
    }

    @Test
    void unknownKeyInAFileNamesTheFileAndLine(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.conf");
        Files.writeString(f, "optim {\n  batch-size = 64\n  learning-rate = 1\n}\n");
        String msg = error(f.toString());
        assertTrue(msg.contains("'optim.learning-rate'") && msg.contains("bad.conf:3"), msg);
    }

    @Test
    void wrongTypeNamesKeyAndValue() {
        String msg = error(null, "optim.batch-size=lots");
        assertTrue(msg.contains("'optim.batch-size'") && msg.contains("lots") && msg.contains("integer"), msg);
    }

    @Test
    void maskCountAtLeastTokensIsRejected() {
        String msg = error("pretrain-demo.conf", "mask.count=64");
        assertTrue(msg.contains("'mask.count'") && msg.contains("64") && msg.contains("below the 64 patch tokens"), msg);
    }

    @Test
    void widthNotDivisibleByHeadsIsRejected() {
        String msg = error(null, "model.encoder.heads=5");
        assertTrue(msg.contains("'model.encoder.heads'") && msg.contains("5") && msg.contains("768"), msg);
    }

    @Test
    void patchMustDivideImage() {
        String msg = error(null, "model.patch-size=15");
        assertTrue(msg.contains("'model.patch-size'") && msg.contains("224"), msg);
    }

    @Test
    void sectionReplacedByAValueIsRejected() {
        String msg = error(null, "model=5");
        assertTrue(msg.contains("'model'") && msg.contains("section"), msg);
    }

    @Test
    void missingFileIsNamed() {
        String msg = error("/nonexistent/x.conf");
        assertTrue(msg.contains("/nonexistent/x.conf") && msg.contains("does not exist"), msg);
    }

    @Test
    void pathValuesWithSlashesStayWhole() {
        var c = ConfigLoader.load(null, List.of("ema.schedule=constant"));
        assertEquals("constant", c.getString("ema.schedule"));
        String msg = error(null, "ema.schedule=hdfs://nn:8020/x");
        assertTrue(msg.contains("hdfs://nn:8020/x"), msg);
    }
}
