package siameseim.prepare;

import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import siameseim.config.ConfigLoader;
import siameseim.config.DataConfig;
import siameseim.config.PrepareConfig;
import siameseim.config.PretrainConfig;
import siameseim.datasets.prepare.ImageFolderWriter;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.synthetic.SyntheticShapes;

/**
 * The built-in dataset of the demo and the scaling benchmark: {@code data.synthetic} rendered as
 * an ImageNet-layout JPEG tree under {@code root/images}, then prepared into {@code data.path}.
 */
public final class BuiltInData {
    private BuiltInData() {}

    /** Renders the synthetic shapes and prepares them, unless a prepared copy is already there. */
    public static void prepare(SparkSession spark, PretrainConfig cfg, Path root, Consumer<String> out)
            throws Exception {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Path dataset = new Path(cfg.data().path());
        FileSystem fs = dataset.getFileSystem(conf);
        if (fs.exists(new Path(dataset, Manifest.FILE))) {
            out.accept("[demo] using the prepared built-in dataset in " + dataset);
            return;
        }
        DataConfig.Synthetic syn = cfg.data().synthetic();
        long t0 = System.nanoTime();
        Path images = new Path(root, "images");
        String[] names = new String[syn.classes()];
        for (int c = 0; c < names.length; c++) {
            names[c] = SyntheticShapes.className(c);
        }
        int val = Math.max(10, syn.imagesPerClass() / 8);
        ImageFolderWriter.write(conf, images, "train",
                SyntheticShapes.dataset(syn.classes(), 0, syn.imagesPerClass(), syn.imageSize(), syn.seed()), names, 95);
        ImageFolderWriter.write(conf, images, "val",
                SyntheticShapes.dataset(syn.classes(), syn.imagesPerClass(), val, syn.imageSize(), syn.seed()), names,
                95);
        out.accept(String.format(Locale.ROOT, "[demo] built-in data: %d classes of textured shapes, %d + %d images of"
                + " %d px written as JPEG to %s in %.1f s", syn.classes(), syn.classes() * syn.imagesPerClass(),
                syn.classes() * val, syn.imageSize(), images, (System.nanoTime() - t0) / 1e9));
        DatasetPreparation.Report rep = DatasetPreparation.run(spark, PrepareConfig.from(ConfigLoader.load(null,
                List.of("prepare.input=" + images, "prepare.output=" + dataset))));
        rep.lines().forEach(out);
    }
}
