package siameseim.datasets.testing;

import java.io.IOException;
import java.io.InputStream;

/** Small image files of each kind real datasets contain (src/test/resources/fixtures), and bad variants. */
public final class TestImages {
    private TestImages() {}

    public static byte[] fixture(String name) throws IOException {
        try (InputStream in = TestImages.class.getResourceAsStream("/fixtures/" + name)) {
            if (in == null) {
                throw new IOException("missing test fixture " + name);
            }
            return in.readAllBytes();
        }
    }

    /** The JPEG with its frame header rewritten to 60000 x 60000 pixels. */
    public static byte[] hugeHeader(byte[] jpeg) {
        byte[] b = jpeg.clone();
        for (int i = 2; i + 8 < b.length; i++) {
            int m = b[i + 1] & 0xff;
            if ((b[i] & 0xff) == 0xFF && m >= 0xC0 && m <= 0xC2) {
                b[i + 5] = (byte) 0xEA;
                b[i + 6] = 0x60;
                b[i + 7] = (byte) 0xEA;
                b[i + 8] = 0x60;
                return b;
            }
        }
        throw new IllegalStateException("no SOF marker");
    }
}
