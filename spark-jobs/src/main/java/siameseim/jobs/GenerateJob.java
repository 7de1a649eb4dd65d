package siameseim.jobs;

import java.nio.file.Path;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import siameseim.datasets.fashionmnist.FashionMnist;
import siameseim.datasets.image.ImageSource;
import siameseim.datasets.prepare.ImageFolderWriter;
import siameseim.datasets.prepare.tar.WebDatasetWriter;
import siameseim.datasets.synthetic.SyntheticShapes;

/**
 * bin/siameseim generate: writes a built-in dataset as an ImageNet-layout JPEG tree or as
 * WebDataset shards ({@code --format webdataset}: {@code train/} and {@code val/} folders of
 * {@code shard-<n>.tar}), the inputs of the prepare job: the procedural synthetic shapes, or
 * Fashion-MNIST from the Debian package.
 */
public final class GenerateJob implements Job {

    @Override
    public String name() {
        return "generate";
    }

    @Override
    public String summary() {
        return "write a built-in dataset (synthetic shapes or Fashion-MNIST) as an ImageNet-layout tree or WebDataset"
                + " shards";
    }

    @Override
    public String usage() {
        return "--output DIR [--source synthetic|fashion-mnist] [--classes 10] [--train-per-class 400]"
                + " [--val-per-class 50] [--size 48 (fashion-mnist: 28)] [--seed 7] [--fashion-mnist-dir DIR]"
                + " [--format tree|webdataset] [--shard-size 1000 (images per WebDataset shard)]";
    }

    @Override
    public int run(JobArgs a) throws Exception {
        a.allowOnly("output", "source", "classes", "train-per-class", "val-per-class", "size", "seed",
                "fashion-mnist-dir", "format", "shard-size");
        String out = a.option("output", null);
        if (out == null) {
            throw new JobArgs.UsageError("--output DIR is required");
        }
        org.apache.hadoop.fs.Path root = new org.apache.hadoop.fs.Path(out);
        Configuration conf = new Configuration();
        String source = a.option("source", "synthetic");
        String format = a.option("format", "tree");
        if (!format.equals("tree") && !format.equals("webdataset")) {
            throw new JobArgs.UsageError("--format must be tree or webdataset, got '" + format + "'");
        }
        int perShard = a.intOption("shard-size", 1000);
        if (perShard < 1) {
            throw new JobArgs.UsageError("--shard-size must be at least 1, got " + perShard);
        }
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
                bytes = write(conf, root, "train", tr, names, format, perShard)
                        + write(conf, root, "val", va, names, format, perShard);
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
                bytes = write(conf, root, "train", tr, names, format, perShard)
                        + write(conf, root, "val", va, names, format, perShard);
                images = tr.size() + va.size();
            }
            default -> throw new JobArgs.UsageError("--source must be synthetic or fashion-mnist, got '" + source + "'");
        }
        System.out.printf(Locale.ROOT, "[generate] %s: %d images (%.1f MiB) in %s%s, %.1f s%n", source, images,
                bytes / 1048576.0, root, format.equals("tree") ? "" : " as WebDataset shards of " + perShard
                        + " (prepare --layout webdataset)", (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    /** @return the bytes written */
    private static long write(Configuration conf, org.apache.hadoop.fs.Path root, String split, ImageSource images,
            String[] names, String format, int perShard) throws java.io.IOException {
        if (format.equals("tree")) {
            return ImageFolderWriter.write(conf, root, split, images, names, 95);
        }
        long bytes = 0;
        for (org.apache.hadoop.fs.Path p : WebDatasetWriter.write(conf, root, split, images, names, 95, perShard)) {
            bytes += p.getFileSystem(conf).getFileStatus(p).getLen();
        }
        return bytes;
    }
}
