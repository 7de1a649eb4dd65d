package siameseim.datasets.prepare;

import java.io.IOException;
import java.io.OutputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.image.ImageSource;
import siameseim.datasets.image.RgbImage;

/**
 * Writes labelled images as an ImageNet-layout tree, {@code <split>/<class>/<class>_<n>.JPEG},
 * the input format of the prepare job (used by the built-in dataset importers).
 */
public final class ImageFolderWriter {
    private ImageFolderWriter() {}

    public static long write(Configuration conf, Path root, String split, ImageSource images, String[] classNames,
            int quality) throws IOException {
        FileSystem fs = root.getFileSystem(conf);
        ImageDecoder enc = ImageDecoder.named("opencv");
        int[] counts = new int[classNames.length];
        long bytes = 0;
        for (int i = 0; i < images.size(); i++) {
            int label = images.label(i);
            String cls = classNames[label];
            RgbImage img = images.image(i);
            byte[] jpeg = enc.encodeJpeg(img, quality);
            Path p = new Path(root, split + "/" + cls + "/" + cls + "_" + counts[label]++ + ".JPEG");
            try (OutputStream out = fs.create(p, true)) {
                out.write(jpeg);
            }
            bytes += jpeg.length;
        }
        return bytes;
    }
}
