package siameseim.datasets.fashionmnist;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import siameseim.datasets.augment.CropBox;
import siameseim.datasets.augment.Resampler;
import siameseim.datasets.image.PackedImages;
import siameseim.datasets.image.RgbImage;

/**
 * Fashion-MNIST from its IDX files (the Debian package dataset-fashion-mnist installs them in
 * /usr/share/datasets/fashion-mnist): 28 x 28 grey images, replicated to RGB and resized
 * (bicubic) to {@code size} pixels, with labels 0..9.
 */
public final class FashionMnist {
    /** Where the Debian package puts the files. */
    public static final Path DEBIAN_PATH = Path.of("/usr/share/datasets/fashion-mnist");

    public static final String[] CLASSES = {"t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
        "sneaker", "bag", "ankle-boot"};

    private FashionMnist() {}

    /** The "train" (60k) or "t10k" (10k) split; {@code limit} caps the count (0 = all). */
    public static PackedImages load(Path dir, String split, int size, int limit) throws IOException {
        Path images = file(dir, split + "-images-idx3-ubyte");
        Path labels = file(dir, split + "-labels-idx1-ubyte");
        try (DataInputStream li = open(labels);
                DataInputStream ii = open(images)) {
            int lm = li.readInt();
            int ln = li.readInt();
            if (lm != 2049) {
                throw new IOException(labels + ": not an IDX label file (magic " + lm + ")");
            }
            int im = ii.readInt();
            int in = ii.readInt();
            int rows = ii.readInt();
            int cols = ii.readInt();
            if (im != 2051 || rows <= 0 || cols <= 0) {
                throw new IOException(images + ": not an IDX image file (magic " + im + ")");
            }
            if (in != ln) {
                throw new IOException(images + " has " + in + " images but " + labels + " has " + ln + " labels");
            }
            int n = limit > 0 ? Math.min(limit, in) : in;
            PackedImages out = new PackedImages();
            byte[] px = new byte[rows * cols];
            for (int i = 0; i < n; i++) {
                try {
                    ii.readFully(px);
                } catch (EOFException e) {
                    throw new IOException(images + " is truncated at image " + i + " of " + in);
                }
                int label = li.readUnsignedByte();
                if (label > 9) {
                    throw new IOException(labels + ": label " + label + " at index " + i + " is not in 0..9");
                }
                out.add(toRgb(px, cols, rows, size), label);
            }
            return out;
        }
    }

    static RgbImage toRgb(byte[] px, int w, int h, int size) {
        RgbImage img = new RgbImage(w, h);
        float[] d = img.data();
        int n = w * h;
        for (int i = 0; i < n; i++) {
            float v = px[i] & 0xff;
            d[i] = v;
            d[n + i] = v;
            d[2 * n + i] = v;
        }
        if (size == w && size == h) {
            return img;
        }
        return Resampler.resize(img, new CropBox(0, 0, h, w), size, size, Resampler.Filter.BICUBIC);
    }

    private static Path file(Path dir, String base) throws IOException {
        for (String name : new String[] {base + ".gz", base}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new IOException("Fashion-MNIST file " + base + "(.gz) not found in " + dir
                + " (install the Debian package dataset-fashion-mnist, or set data.fashion-mnist.path)");
    }

    private static DataInputStream open(Path p) throws IOException {
        InputStream in = Files.newInputStream(p);
        if (p.getFileName().toString().endsWith(".gz")) {
            in = new GZIPInputStream(in, 1 << 16);
        }
        return new DataInputStream(new java.io.BufferedInputStream(in, 1 << 16));
    }
}
