package siameseim.datasets.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import siameseim.datasets.image.RgbImage;
import siameseim.datasets.testing.TestImages;

/** Both decoders on the kinds of files real ImageNet contains. */
class ImageDecoderTest {
    static final long LIMIT = 50_000_000L;

    static byte[] fixture(String name) throws IOException {
        return TestImages.fixture(name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"opencv", "imageio"})
    void cmykJpegBecomesRgb(String decoder) throws Exception {
        ImageDecoder.Decoded d = ImageDecoder.named(decoder).decode(fixture("cmyk.jpg"), LIMIT);
        RgbImage img = d.image();
        assertEquals(40, img.width());
        assertEquals(30, img.height());
        // red at the top, blue at the bottom (converted from CMYK, not garbage)
        assertTrue(img.get(0, 1, 20) > 150 && img.get(2, 1, 20) < 100, "top " + img.get(0, 1, 20));
        assertTrue(img.get(2, 28, 20) > 150 && img.get(0, 28, 20) < 100, "bottom " + img.get(2, 28, 20));
    }

    @ParameterizedTest
    @ValueSource(strings = {"opencv", "imageio"})
    void greyJpegAndPngNamedJpegAndPaletteGif(String decoder) throws Exception {
        ImageDecoder dec = ImageDecoder.named(decoder);
        RgbImage grey = dec.decode(fixture("gray.jpg"), LIMIT).image();
        assertEquals(grey.get(0, 10, 10), grey.get(1, 10, 10));
        ImageDecoder.Decoded png = dec.decode(fixture("png-named.JPEG"), LIMIT);
        assertEquals("png", png.format());
        assertTrue(png.image().get(1, 0, 5) > 100, "green at the top of the 16-bit PNG");
        RgbImage gif = dec.decode(fixture("palette.gif"), LIMIT).image();
        assertEquals(255f, gif.get(0, 5, 5), 1f);
    }

    @ParameterizedTest
    @ValueSource(strings = {"opencv", "imageio"})
    void badFilesFailWithTheirReason(String decoder) throws Exception {
        ImageDecoder dec = ImageDecoder.named(decoder);
        byte[] good = fixture("good.jpg");
        assertReason(dec, new byte[0], BadImageException.Reason.EMPTY);
        assertReason(dec, "n01440764 tench\n".getBytes(), BadImageException.Reason.NOT_AN_IMAGE);
        assertReason(dec, Arrays.copyOf(good, good.length / 2), BadImageException.Reason.TRUNCATED);
        assertReason(dec, TestImages.hugeHeader(good), BadImageException.Reason.TOO_LARGE);
        byte[] scrambled = good.clone();
        for (int i = 200; i < scrambled.length - 2; i++) {
            scrambled[i] = (byte) 0xFF;
        }
        // a file that still ends with EOI but whose data is destroyed: corrupt or decoded as junk,
        // never a crash
        try {
            dec.decode(scrambled, LIMIT);
        } catch (BadImageException e) {
            assertTrue(e.reason() == BadImageException.Reason.CORRUPT, e.getMessage());
        }
    }

    static void assertReason(ImageDecoder dec, byte[] bytes, BadImageException.Reason reason) {
        BadImageException e = assertThrows(BadImageException.class, () -> dec.decode(bytes, LIMIT));
        assertEquals(reason, e.reason(), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"opencv", "imageio"})
    void jpegRoundTripIsClose(String decoder) throws Exception {
        ImageDecoder dec = ImageDecoder.named(decoder);
        RgbImage img = new siameseim.datasets.synthetic.SyntheticShapes(96, 1).render(2, 0);
        RgbImage back = dec.decode(dec.encodeJpeg(img, 95), LIMIT).image();
        double err = 0;
        for (int i = 0; i < img.data().length; i++) {
            err += Math.abs(img.data()[i] - back.data()[i]);
        }
        assertTrue(err / img.data().length < 3, "mean abs error " + err / img.data().length);
    }
}
