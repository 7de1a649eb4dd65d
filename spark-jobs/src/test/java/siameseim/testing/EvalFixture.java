package siameseim.testing;

import java.util.SplittableRandom;
import siameseim.datasets.image.PackedImages;
import siameseim.datasets.image.RgbImage;

/** The evaluation tests' unit-size model and their easily separable images. */
public final class EvalFixture {
    private EvalFixture() {}

    /** The unit-size model as --set overrides. */
    public static final String[] UNIT = {"model.image-size=16", "model.patch-size=4", "model.encoder.width=32",
        "model.encoder.depth=2", "model.encoder.heads=2", "model.decoder.width=32", "model.decoder.heads=2",
        "model.decoder.projector-depth=1", "model.decoder.predictor-depth=1", "mask.count=10", "mask.min-block=2",
        "optim.batch-size=8", "train.threads=1"};

    /** 3 classes: mostly red, mostly green, mostly blue noisy images. */
    public static PackedImages colours(int perClass, long seed) {
        PackedImages out = new PackedImages();
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < perClass; i++) {
            for (int c = 0; c < 3; c++) {
                RgbImage img = new RgbImage(20, 20);
                for (int ch = 0; ch < 3; ch++) {
                    for (int p = 0; p < 400; p++) {
                        img.data()[ch * 400 + p] = (float) Math.floor((ch == c ? 150 : 60) + rng.nextDouble() * 60);
                    }
                }
                out.add(img, c);
            }
        }
        return out;
    }
}
