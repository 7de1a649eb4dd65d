package siameseim.datasets.testing;

import java.util.List;
import siameseim.config.ConfigLoader;
import siameseim.config.PretrainConfig;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.image.PackedImages;
import siameseim.datasets.synthetic.SyntheticShapes;

/** The loader tests' config (the demo's), images (4 classes x 10 synthetic shapes, 40 px) and decoder. */
public final class LoaderFixture {
    private LoaderFixture() {}

    public static final PretrainConfig CFG = ConfigLoader.loadPretrain("pretrain-demo.conf", List.of());
    public static final PackedImages DATA = SyntheticShapes.dataset(4, 0, 10, 40, 3);
    public static final ImageDecoder OPENCV = ImageDecoder.named("opencv");
}
