package siameseim.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.SparkSession;
import siameseim.config.ConfigLoader;
import siameseim.config.PrepareConfig;
import siameseim.datasets.image.PackedImages;
import siameseim.datasets.image.RgbImage;
import siameseim.datasets.prepare.ImageFolderWriter;
import siameseim.prepare.DatasetPreparation;

/** The evaluation tests' unit-size model and their easily separable images. */
public final class EvalFixture {
    private EvalFixture() {}

    /** The class folders of {@link #coloursDataset}. */
    public static final String[] NAMES = {"n00000001", "n00000002", "n00000003"};

    /**
     * {@link #colours} as an ImageNet-layout tree under {@code dir/images} ({@code trainPerClass}
     * training and 6 validation images per class), prepared into {@code dir/colours}; returns the
     * prepared dataset's path.
     */
    public static String coloursDataset(SparkSession spark, Path dir, int trainPerClass) throws IOException {
        org.apache.hadoop.fs.Path in = new org.apache.hadoop.fs.Path(dir.resolve("images").toString());
        org.apache.hadoop.conf.Configuration conf = spark.sparkContext().hadoopConfiguration();
        ImageFolderWriter.write(conf, in, "train", colours(trainPerClass, 1), NAMES, 95);
        ImageFolderWriter.write(conf, in, "val", colours(6, 2), NAMES, 95);
        String dataset = dir.resolve("colours").toString();
        DatasetPreparation.run(spark, PrepareConfig.from(ConfigLoader.load(null, List.of("prepare.input=" + in,
                "prepare.output=" + dataset, "prepare.tasks=2"))));
        return dataset;
    }

    /** The unit-size model as --set overrides. */
    public static final String[] UNIT = TestConfigs.unitModel("optim.batch-size=8", "train.threads=1")
            .toArray(String[]::new);

    /** 3 classes: mostly red, mostly green, mostly blue noisy images. */
    public static PackedImages colours(int perClass, long seed) {
        PackedImages out = new PackedImages();
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < perClass; i++) {
            for (int c = 0; c < 3; c++) {
                RgbImage img = new RgbImage(20, 20);
                for (int ch = 0; ch < 3; ch++) {
                    for (int p = 0; p < 400; p++) {
                        img.data()[ch * 400 + p] = (float) Math.floor((ch == c ? 150 : 60) + rng.nextDouble() * 60);
                    }
                }
                out.add(img, c);
            }
        }
        return out;
    }
}
