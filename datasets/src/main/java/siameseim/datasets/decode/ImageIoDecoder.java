package siameseim.datasets.decode;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import siameseim.datasets.image.RgbImage;

/**
 * Java ImageIO with the TwelveMonkeys JPEG plugin (which reads CMYK/YCCK JPEGs and JPEGs with
 * broken ICC profiles that the JDK reader refuses). Decoder warnings about missing data are
 * treated as corruption.
 */
public final class ImageIoDecoder implements ImageDecoder {

    @Override
    public String name() {
        return "imageio";
    }

    @Override
    public Decoded decode(byte[] bytes, long maxPixels) throws BadImageException {
        ImageHeader h = ImageDecoder.check(bytes, maxPixels);
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new BadImageException(BadImageException.Reason.NOT_AN_IMAGE, "no ImageIO reader for " + h.format());
            }
            ImageReader reader = readers.next();
            StringBuilder warnings = new StringBuilder();
            reader.addIIOReadWarningListener((src, w) -> warnings.append(w).append("; "));
            try {
                reader.setInput(in, true, true);
                long px = (long) reader.getWidth(0) * reader.getHeight(0);
                if (px > maxPixels) {
                    throw new BadImageException(BadImageException.Reason.TOO_LARGE, reader.getWidth(0) + " x "
                            + reader.getHeight(0) + " pixels exceeds the limit of " + maxPixels);
                }
                BufferedImage img = reader.read(0);
                if (warnings.length() > 0 && warnings.toString().toLowerCase(java.util.Locale.ROOT).contains("premature")) {
                    throw new BadImageException(BadImageException.Reason.TRUNCATED, warnings.toString());
                }
                return new Decoded(toRgb(img), h.format(), describe(img));
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            throw new BadImageException(BadImageException.Reason.CORRUPT, h.format() + " decoding failed: " + e.getMessage());
        }
    }

    static String describe(BufferedImage img) {
        int bands = img.getColorModel().getNumComponents();
        return switch (img.getColorModel().getColorSpace().getType()) {
            case java.awt.color.ColorSpace.TYPE_GRAY -> "grey";
            case java.awt.color.ColorSpace.TYPE_CMYK -> "cmyk";
            default -> bands == 4 ? "rgba" : "rgb";
        };
    }

    static RgbImage toRgb(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        int[] rgb = img.getRGB(0, 0, w, h, null, 0, w);
        return RgbImage.fromPacked(w, h, rgb);
    }

    @Override
    public byte[] encodeJpeg(RgbImage image, int quality) {
        BufferedImage bi = new BufferedImage(image.width(), image.height(), BufferedImage.TYPE_INT_RGB);
        bi.setRGB(0, 0, image.width(), image.height(), image.toPacked(), 0, image.width());
        ImageWriter writer = null;
        for (Iterator<ImageWriter> it = ImageIO.getImageWritersByFormatName("jpeg"); it.hasNext();) {
            ImageWriter candidate = it.next();
            // the JDK writer: deterministic output, no plugin-specific metadata
            if (writer == null || candidate.getClass().getName().startsWith("com.sun")) {
                writer = candidate;
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
            ImageWriteParam p = writer.getDefaultWriteParam();
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(quality / 100f);
            writer.setOutput(ios);
            writer.write(null, new IIOImage(bi, null, null), p);
        } catch (IOException e) {
            throw new IllegalStateException("JPEG encoding failed", e);
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }
}
