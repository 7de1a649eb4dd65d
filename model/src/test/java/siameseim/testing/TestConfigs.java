package siameseim.testing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import siameseim.config.ConfigLoader;
import siameseim.config.PretrainConfig;

/**
 * Configs used by the tests of every module (this module's test-jar): the spec's "unit" size
 * (16 px, D 32) and the demo config.
 */
public final class TestConfigs {
    private TestConfigs() {}

    /** Spec 8.1 "unit" model as --set overrides: 16 px, patch 4 (G 4), D 32, depth 2, heads 2, Dd 32, 10 of 16 masked. */
    public static final List<String> UNIT_MODEL = List.of(
            "model.image-size=16", "model.patch-size=4",
            "model.encoder.width=32", "model.encoder.depth=2", "model.encoder.heads=2",
            "model.decoder.width=32", "model.decoder.heads=2",
            "model.decoder.projector-depth=1", "model.decoder.predictor-depth=1",
            "mask.count=10", "mask.min-block=2");

    /** The unit model with {@code more} after it (later overrides win). */
    public static List<String> unitModel(String... more) {
        List<String> all = new ArrayList<>(UNIT_MODEL);
        all.addAll(Arrays.asList(more));
        return all;
    }

    /** The unit model with a global batch of 16, 20 epochs and one thread, then {@code overrides}. */
    public static PretrainConfig unit(String... overrides) {
        List<String> all = unitModel("optim.batch-size=16", "optim.lr=1e-3", "optim.epochs=20",
                "optim.warmup-epochs=2", "ema.momentum=0.99", "train.threads=1");
        all.addAll(Arrays.asList(overrides));
        return ConfigLoader.loadPretrain(null, all);
    }

    public static PretrainConfig demo(String... overrides) {
        List<String> all = new ArrayList<>(List.of("train.threads=1"));
        all.addAll(Arrays.asList(overrides));
        return ConfigLoader.loadPretrain("pretrain-demo.conf", all);
    }
}
