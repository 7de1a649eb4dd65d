package siameseim.jobs;

import java.nio.file.Path;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import siameseim.datasets.fashionmnist.FashionMnist;
import siameseim.datasets.image.ImageSource;
import siameseim.datasets.prepare.ImageFolderWriter;
import siameseim.datasets.synthetic.SyntheticShapes;

/**
 * bin/siameseim generate: writes a built-in dataset as an ImageNet-layout JPEG tree (the input
 * of the prepare job): the procedural synthetic shapes, or Fashion-MNIST from the Debian package.
 */
public final class GenerateJob implements Job {

    @Override
    public String name() {
        return "generate";
    }

    @Override
    public String summary() {
        return "write a built-in dataset (synthetic shapes or Fashion-MNIST) as an ImageNet-layout tree";
    }

    @Override
    public String usage() {
        return "--output DIR [--source synthetic|fashion-mnist] [--classes 10] [--train-per-class 400]"
                + " [--val-per-class 50] [--size 48 (fashion-mnist: 28)] [--seed 7] [--fashion-mnist-dir DIR]";
    }

    @Override
    public int run(JobArgs a) throws Exception {
        a.allowOnly("output", "source", "classes", "train-per-class", "val-per-class", "size", "seed",
                "fashion-mnist-dir");
        String out = a.option("output", null);
        if (out == null) {
            throw new JobArgs.UsageError("--output DIR is required");
        }
        org.apache.hadoop.fs.Path root = new org.apache.hadoop.fs.Path(out);
        Configuration conf = new Configuration();
        String source = a.option("source", "synthetic");
        long t0 = System.nanoTime();
        long bytes;
        int images;
        switch (source) {
            case "synthetic" -> {
                int classes = a.intOption("classes", 10);
                int train = a.intOption("train-per-class", 400);
                int val = a.intOption("val-per-class", 50);
                int size = a.intOption("size", 48);
                long seed = a.intOption("seed", 7);
                String[] names = new String[classes];
                for (int c = 0; c < classes; c++) {
                    names[c] = SyntheticShapes.className(c);
                }
                ImageSource tr = SyntheticShapes.dataset(classes, 0, train, size, seed);
                ImageSource va = SyntheticShapes.dataset(classes, train, val, size, seed);
                bytes = ImageFolderWriter.write(conf, root, "train", tr, names, 95)
                        + ImageFolderWriter.write(conf, root, "val", va, names, 95);
                images = tr.size() + va.size();
            }
            case "fashion-mnist" -> {
                Path dir = Path.of(a.option("fashion-mnist-dir", FashionMnist.DEBIAN_PATH.toString()));
                String[] names = new String[10];
                for (int c = 0; c < 10; c++) {
                    names[c] = String.format(Locale.ROOT, "f%d_%s", c, FashionMnist.CLASSES[c]);
                }
                int size = a.intOption("size", 28);
                ImageSource tr = FashionMnist.load(dir, "train", size, 0);
                ImageSource va = FashionMnist.load(dir, "t10k", size, 0);
                bytes = ImageFolderWriter.write(conf, root, "train", tr, names, 95)
                        + ImageFolderWriter.write(conf, root, "val", va, names, 95);
                images = tr.size() + va.size();
            }
            default -> throw new JobArgs.UsageError("--source must be synthetic or fashion-mnist, got '" + source + "'");
        }
        System.out.printf(Locale.ROOT, "[generate] %s: %d images (%.1f MiB of JPEG) in %s, %.1f s%n", source, images,
                bytes / 1048576.0, root, (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
