package siameseim.datasets.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import siameseim.config.ConfigLoader;
import siameseim.config.PretrainConfig;
import siameseim.datasets.image.RgbImage;
import siameseim.datasets.synthetic.SyntheticShapes;

/**
 * The two-view augmentation is one fixed function: its outputs on fixed inputs and seeds, every bit
 * of both views, the geometry and the mask, hash to the values the per-pixel implementation gave.
 * A faster kernel must keep them; a deliberate change of the augmentation changes them here, with
 * the reason in its commit. The 224 px case crops, flips and blurs a 500 x 375 photo-like and a
 * noise image (the ViT-B/16 recipe); the 32 px case is the demo's.
 */
class TwoViewAugmenterBitsTest {

    private static String digest(String conf, List<RgbImage> images, int samples) throws Exception {
        PretrainConfig cfg = ConfigLoader.loadPretrain(conf, List.of());
        TwoViewAugmenter aug = new TwoViewAugmenter(cfg);
        SplittableRandom rng = new SplittableRandom(39);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        float[] geometry = new float[6];
        for (int i = 0; i < samples; i++) {
            TwoViewAugmenter.Sample s = aug.apply(images.get(i % images.size()), rng);
            ByteBuffer b = ByteBuffer.allocate(4 * (s.view1().length + s.view2().length + 6 + s.visible().length));
            b.asFloatBuffer().put(s.view1()).put(s.view2());
            s.geometry().writeTo(geometry, 0);
            b.position(4 * (s.view1().length + s.view2().length));
            for (float g : geometry) {
                b.putFloat(g);
            }
            for (int v : s.visible()) {
                b.putInt(v);
            }
            sha.update(b.array());
        }
        return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
    }

    private static RgbImage crop(RgbImage img, int w, int h) {
        RgbImage out = new RgbImage(w, h);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                System.arraycopy(img.data(), (c * img.height() + y) * img.width(), out.data(), (c * h + y) * w, w);
            }
        }
        return out;
    }

    @Test
    void viewsOf224PixelsKeepTheirBits() throws Exception {
        RgbImage photo = crop(new SyntheticShapes(500, 1).render(3, 7), 500, 375);
        RgbImage noise = RandomImages.of(500, 375, new SplittableRandom(5));
        RgbImage tall = RandomImages.of(211, 377, new SplittableRandom(6));
        assertEquals("3039d9bdcfca4b5a", digest("pretrain-vit-b16.conf", List.of(photo, noise, tall), 24));
    }

    @Test
    void demoViewsKeepTheirBits() throws Exception {
        List<RgbImage> images = List.of(new SyntheticShapes(48, 2).render(1, 3), RandomImages.of(48, 48,
                new SplittableRandom(7)), RandomImages.of(37, 61, new SplittableRandom(8)));
        assertEquals("a41e28d95d24e08a", digest("pretrain-demo.conf", images, 60));
    }
}
