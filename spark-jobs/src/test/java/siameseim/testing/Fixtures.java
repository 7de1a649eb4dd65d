package siameseim.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import siameseim.datasets.prepare.ImageFolderWriter;
import siameseim.datasets.synthetic.SyntheticShapes;
import siameseim.datasets.testing.TestImages;

/** ImageNet-layout fixture trees for the prepare tests. */
public final class Fixtures {
    private Fixtures() {}

    public static String[] classNames(int n) {
        String[] names = new String[n];
        for (int c = 0; c < n; c++) {
            names[c] = String.format("n%08d", 1440764 + c);
        }
        return names;
    }

    /** A clean tree: classes x trainPerClass train and classes x valPerClass val images, 40 px. */
    public static void cleanTree(Configuration conf, Path root, int classes, int trainPerClass, int valPerClass)
            throws IOException {
        String[] names = classNames(classes);
        ImageFolderWriter.write(conf, root, "train", SyntheticShapes.dataset(classes, 0, trainPerClass, 40, 5), names, 92);
        ImageFolderWriter.write(conf, root, "val", SyntheticShapes.dataset(classes, trainPerClass, valPerClass, 40, 5),
                names, 92);
    }

    /** Adds one file of each kind real ImageNet contains to train/ of a clean tree. */
    public static void addRealWorldFiles(Configuration conf, Path root) throws IOException {
        String c0 = classNames(1)[0];
        byte[] good = resource("good.jpg");
        write(conf, new Path(root, "train/" + c0 + "/cmyk.JPEG"), resource("cmyk.jpg"));
        write(conf, new Path(root, "train/" + c0 + "/grey.JPEG"), resource("gray.jpg"));
        write(conf, new Path(root, "train/" + c0 + "/really-a-png.JPEG"), resource("png-named.JPEG"));
        write(conf, new Path(root, "train/" + c0 + "/palette.JPEG"), resource("palette.gif"));
        write(conf, new Path(root, "train/" + c0 + "/empty.JPEG"), new byte[0]);
        write(conf, new Path(root, "train/" + c0 + "/truncated.JPEG"), Arrays.copyOf(good, good.length / 2));
        write(conf, new Path(root, "train/" + c0 + "/notes.JPEG"), "tench, Tinca tinca\n".getBytes());
        write(conf, new Path(root, "train/" + c0 + "/huge.JPEG"), TestImages.hugeHeader(good));
        write(conf, new Path(root, "train/stray.JPEG"), good);
    }

    public static byte[] resource(String name) throws IOException {
        return TestImages.fixture(name);
    }

    public static void write(Configuration conf, Path p, byte[] bytes) throws IOException {
        FileSystem fs = p.getFileSystem(conf);
        try (OutputStream out = fs.create(p, true)) {
            out.write(bytes);
        }
    }
}
