package siameseim.datasets.prepare;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.image.ImageSource;
import siameseim.files.UserFiles;

/**
 * Writes labelled images as an ImageNet-layout tree, {@code <split>/<class>/<class>_<n>.JPEG},
 * the input format of the prepare job (used by the built-in dataset importers). Images are
 * encoded and written on every core; file names depend only on the source's order. On a local
 * disk no {@code .crc} side files are written ({@link UserFiles}).
 */
public final class ImageFolderWriter {
    private ImageFolderWriter() {}

    /** @return the JPEG bytes written */
    public static long write(Configuration conf, Path root, String split, ImageSource images, String[] classNames,
            int quality) throws IOException {
        int[] ordinal = new int[images.size()]; // the image's number within its class
        int[] counts = new int[classNames.length];
        for (int i = 0; i < images.size(); i++) {
            ordinal[i] = counts[images.label(i)]++;
        }
        ImageDecoder enc = ImageDecoder.named("opencv");
        AtomicLong bytes = new AtomicLong();
        try {
            IntStream.range(0, images.size()).parallel().forEach(i -> {
                String cls = classNames[images.label(i)];
                byte[] jpeg = enc.encodeJpeg(images.image(i), quality);
                Path p = new Path(root, split + "/" + cls + "/" + cls + "_" + ordinal[i] + ".JPEG");
                try (OutputStream out = UserFiles.create(p, conf)) {
                    out.write(jpeg);
                } catch (IOException e) {
                    throw new UncheckedIOException("could not write " + p + ": " + e.getMessage(), e);
                }
                bytes.addAndGet(jpeg.length);
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return bytes.get();
    }
}
