package siameseim.datasets.decode;

import siameseim.datasets.image.RgbImage;

/**
 * Encoded bytes to 8-bit RGB, whatever the source: JPEG (RGB, greyscale, CMYK/YCCK), PNG
 * (palette, grey, 16-bit, alpha dropped), GIF, BMP. Every file is checked before decoding: empty,
 * not an image, truncated, or above {@code maxPixels} fail with a {@link BadImageException}
 * naming the reason, never with a crash or an out-of-memory error.
 */
public interface ImageDecoder {

    /** A decoded image and what it was. */
    record Decoded(RgbImage image, String format, String note) {}

    String name();

    Decoded decode(byte[] bytes, long maxPixels) throws BadImageException;

    /** JPEG bytes of {@code image} at {@code quality} (1-100). */
    byte[] encodeJpeg(RgbImage image, int quality);

    /** The checks every decoder runs before touching the pixels. */
    static ImageHeader check(byte[] bytes, long maxPixels) throws BadImageException {
        if (bytes.length == 0) {
            throw new BadImageException(BadImageException.Reason.EMPTY, "empty file (0 bytes)");
        }
        ImageHeader h = ImageHeader.sniff(bytes);
        if (h.format().equals(ImageHeader.UNKNOWN)) {
            throw new BadImageException(BadImageException.Reason.NOT_AN_IMAGE,
                    "not an image (no JPEG, PNG, GIF, BMP, WebP or TIFF signature)");
        }
        if (h.width() > 0 && h.height() > 0 && h.pixels() > maxPixels) {
            throw new BadImageException(BadImageException.Reason.TOO_LARGE, h.width() + " x " + h.height()
                    + " pixels exceeds the limit of " + maxPixels);
        }
        if (!h.complete()) {
            throw new BadImageException(BadImageException.Reason.TRUNCATED, h.format()
                    + " data ends before the end-of-image marker (truncated file)");
        }
        return h;
    }

    /** The decoder by name: "opencv" or "imageio". */
    static ImageDecoder named(String name) {
        return switch (name) {
            case "opencv" -> new OpenCvDecoder();
            case "imageio" -> new ImageIoDecoder();
            default -> throw new IllegalArgumentException("unknown image decoder '" + name + "' (opencv, imageio)");
        };
    }
}
