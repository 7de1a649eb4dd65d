package siameseim.datasets.decode;

/**
 * What the first and last bytes of an encoded image say, without decoding it: the real format
 * (whatever the file name claims), the pixel dimensions, whether the file ends where its
 * format says it must (JPEG EOI marker, PNG IEND chunk, GIF trailer), which catches truncation,
 * and whether a JPEG carries an Exif segment (whose orientation OpenCV applies).
 */
public record ImageHeader(String format, int width, int height, boolean complete, boolean exif) {

    public static final String UNKNOWN = "unknown";

    public ImageHeader(String format, int width, int height, boolean complete) {
        this(format, width, height, complete, false);
    }

    public long pixels() {
        return (long) width * height;
    }

    public static ImageHeader sniff(byte[] b) {
        if (b.length >= 3 && (b[0] & 0xff) == 0xFF && (b[1] & 0xff) == 0xD8 && (b[2] & 0xff) == 0xFF) {
            return jpeg(b);
        }
        if (b.length >= 24 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') {
            int w = be32(b, 16);
            int h = be32(b, 20);
            boolean end = b.length >= 12 && b[b.length - 8] == 'I' && b[b.length - 7] == 'E' && b[b.length - 6] == 'N'
                    && b[b.length - 5] == 'D';
            return new ImageHeader("png", w, h, end);
        }
        if (b.length >= 10 && b[0] == 'G' && b[1] == 'I' && b[2] == 'F') {
            int w = (b[6] & 0xff) | (b[7] & 0xff) << 8;
            int h = (b[8] & 0xff) | (b[9] & 0xff) << 8;
            return new ImageHeader("gif", w, h, b[b.length - 1] == 0x3B);
        }
        if (b.length >= 26 && b[0] == 'B' && b[1] == 'M') {
            int w = le32(b, 18);
            int h = Math.abs(le32(b, 22));
            long declared = le32(b, 2) & 0xffffffffL;
            return new ImageHeader("bmp", w, h, b.length >= declared);
        }
        if (b.length >= 16 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F' && b[8] == 'W' && b[9] == 'E'
                && b[10] == 'B' && b[11] == 'P') {
            long declared = (le32(b, 4) & 0xffffffffL) + 8;
            return new ImageHeader("webp", -1, -1, b.length >= declared);
        }
        if (b.length >= 8 && ((b[0] == 'I' && b[1] == 'I' && b[2] == 42) || (b[0] == 'M' && b[1] == 'M' && b[3] == 42))) {
            return new ImageHeader("tiff", -1, -1, true);
        }
        return new ImageHeader(UNKNOWN, -1, -1, false);
    }

    private static ImageHeader jpeg(byte[] b) {
        FrameHeader f = jpegFrameHeader(b);
        int h = f.offset() < 0 ? -1 : ((b[f.offset() + 5] & 0xff) << 8) | (b[f.offset() + 6] & 0xff);
        int w = f.offset() < 0 ? -1 : ((b[f.offset() + 7] & 0xff) << 8) | (b[f.offset() + 8] & 0xff);
        // a complete JPEG ends with EOI (FF D9), possibly followed by padding zeros
        int end = b.length - 1;
        while (end > 0 && b[end] == 0) {
            end--;
        }
        boolean complete = end >= 1 && (b[end - 1] & 0xff) == 0xFF && (b[end] & 0xff) == 0xD9;
        return new ImageHeader("jpeg", w, h, complete, f.exif());
    }

    /**
     * Colour components of a JPEG's frame header (1 grey, 3 YCbCr/RGB, 4 CMYK/YCCK), -1 when the
     * bytes are no JPEG or have no frame header before the scan.
     */
    public static int jpegComponents(byte[] b) {
        boolean jpeg = b.length >= 3 && (b[0] & 0xff) == 0xFF && (b[1] & 0xff) == 0xD8 && (b[2] & 0xff) == 0xFF;
        int sof = jpeg ? jpegFrameHeader(b).offset() : -1;
        return sof < 0 ? -1 : b[sof + 9] & 0xff;
    }

    /** Where a JPEG's frame header starts (-1: none), and whether an Exif segment comes before it. */
    private record FrameHeader(int offset, boolean exif) {}

    /**
     * The offset of a JPEG's frame header (SOFn marker: precision, height, width, components) found
     * by walking the marker segments from the start, or -1 when the scan (SOS) or the end comes
     * first; and whether one of the segments before it is APP1 "Exif".
     */
    private static FrameHeader jpegFrameHeader(byte[] b) {
        boolean exif = false;
        int i = 2;
        while (i + 9 < b.length) {
            if ((b[i] & 0xff) != 0xFF) {
                i++;
                continue;
            }
            int marker = b[i + 1] & 0xff;
            if (marker == 0xFF) {
                i++;
                continue;
            }
            if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
                i += 2;
                continue;
            }
            int len = ((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff);
            // APP1 "Exif\0\0" (OpenCV applies its orientation)
            exif |= marker == 0xE1 && b[i + 4] == 'E' && b[i + 5] == 'x' && b[i + 6] == 'i' && b[i + 7] == 'f';
            if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
                return new FrameHeader(i, exif);
            }
            if (marker == 0xDA || len < 2) {
                return new FrameHeader(-1, exif);
            }
            i += 2 + len;
        }
        return new FrameHeader(-1, exif);
    }

    private static int be32(byte[] b, int o) {
        return (b[o] & 0xff) << 24 | (b[o + 1] & 0xff) << 16 | (b[o + 2] & 0xff) << 8 | (b[o + 3] & 0xff);
    }

    private static int le32(byte[] b, int o) {
        return (b[o] & 0xff) | (b[o + 1] & 0xff) << 8 | (b[o + 2] & 0xff) << 16 | (b[o + 3] & 0xff) << 24;
    }
}
