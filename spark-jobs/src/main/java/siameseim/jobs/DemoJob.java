package siameseim.jobs;

import ai.djl.ndarray.NDManager;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import siameseim.checkpoint.CheckpointFormat;
import siameseim.config.ConfigLoader;
import siameseim.config.DataConfig;
import siameseim.config.PrepareConfig;
import siameseim.config.PretrainConfig;
import siameseim.datasets.augment.EvalTransform;
import siameseim.datasets.augment.Resampler;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.image.PackedImages;
import siameseim.datasets.loader.ShardImages;
import siameseim.datasets.prepare.ImageFolderWriter;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.synthetic.SyntheticShapes;
import siameseim.distributed.DistributedTraining;
import siameseim.eval.FeatureExtractor;
import siameseim.eval.FeaturePool;
import siameseim.eval.Knn;
import siameseim.evaluate.KnnProbe;
import siameseim.model.nn.Torch;
import siameseim.model.siameseim.SiameseIM;
import siameseim.prepare.DatasetPreparation;
import siameseim.spark.SparkSessions;

/**
 * The main job on the built-in data: write the synthetic dataset as an ImageNet-layout tree,
 * prepare it with Spark, pretrain the demo config with two replicas in local mode, and compare a
 * kNN probe of the pretrained encoder with the same probe of a randomly initialised one.
 */
public final class DemoJob implements Job {

    @Override
    public String name() {
        return "demo";
    }

    @Override
    public String summary() {
        return "built-in data -> prepare -> pretrain (2 replicas, local mode) -> kNN against random init";
    }

    @Override
    public String usage() {
        return "[--output DIR (runs/demo)] [--replicas N (2)] [--master URL (local[2])]";
    }

    @Override
    public int run(JobArgs a) throws Exception {
        a.allowOnly("output", "replicas", "master");
        String out = a.option("output", "runs/demo");
        Path root = new Path(out);
        List<String> sets = new ArrayList<>(List.of("train.threads=1", "data.path=" + new Path(root, "dataset"),
                "train.output=" + new Path(root, "run"), "distributed.replicas=" + a.intOption("replicas", 2)));
        sets.addAll(a.overrides());
        PretrainConfig cfg = ConfigLoader.loadPretrain(a.confFile("pretrain-demo.conf"), sets);
        SparkSession spark = SparkSessions.create("siameseim demo", a.option("master", null));
        try {
            Configuration conf = spark.sparkContext().hadoopConfiguration();
            prepareBuiltInData(spark, cfg, root);
            FileSystem fs = root.getFileSystem(conf);
            fs.delete(new Path(cfg.train().output()), true); // a demo run starts from scratch
            DistributedTraining.Result r = DistributedTraining.run(spark, cfg, null, System.out::println);
            System.out.printf(Locale.ROOT, "[demo] pretrained %d steps in %s (%.1f images/s, %d replicas)%n",
                    r.rank0().steps(), siameseim.events.Console.duration(r.seconds()), r.rank0().imagesPerSecond(),
                    r.replicas().size());
            knnReport(conf, cfg, r.rank0().checkpoint());
        } finally {
            spark.stop();
        }
        return 0;
    }

    /** Renders the synthetic shapes and prepares them, unless a prepared copy is already there. */
    public static void prepareBuiltInData(SparkSession spark, PretrainConfig cfg, Path root) throws Exception {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Path dataset = new Path(cfg.data().path());
        FileSystem fs = dataset.getFileSystem(conf);
        if (fs.exists(new Path(dataset, Manifest.FILE))) {
            System.out.println("[demo] using the prepared built-in dataset in " + dataset);
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
        System.out.printf(Locale.ROOT, "[demo] built-in data: %d classes of textured shapes, %d + %d images of %d px"
                + " written as JPEG to %s in %.1f s%n", syn.classes(), syn.classes() * syn.imagesPerClass(),
                syn.classes() * val, syn.imageSize(), images, (System.nanoTime() - t0) / 1e9);
        DatasetPreparation.Report rep = DatasetPreparation.run(spark, PrepareConfig.from(ConfigLoader.load(null,
                List.of("prepare.input=" + images, "prepare.output=" + dataset))));
        PrepareJob.print(rep);
    }

    /** kNN (k 20, T 0.07) on mean-pooled patch tokens: val images against the training images. */
    static void knnReport(Configuration conf, PretrainConfig cfg, String checkpoint) throws Exception {
        Torch.init(2);
        Path dataset = new Path(cfg.data().path());
        Manifest m = Manifest.read(conf, dataset);
        ImageDecoder dec = ImageDecoder.named(cfg.data().decoder());
        PackedImages train = ShardImages.load(conf, dataset, m, "train", dec, 0);
        PackedImages val = ShardImages.load(conf, dataset, m, "val", dec, 0);
        EvalTransform tf = new EvalTransform(cfg.model().imageSize(), Resampler.Filter.BICUBIC, cfg.augment().mean(),
                cfg.augment().std());
        try (NDManager mgr = NDManager.newBaseManager()) {
            SiameseIM random = new SiameseIM(mgr, cfg.model(), cfg.negWeight(), cfg.train().seed());
            Knn.Accuracy before = KnnProbe.run(new FeatureExtractor(random.encoder(), FeaturePool.MEAN_PATCH), tf,
                    train, val, m.classes().size(), 20, 0.07, mgr);
            SiameseIM trained = new SiameseIM(mgr, cfg.model(), cfg.negWeight(), cfg.train().seed());
            Path p = new Path(checkpoint);
            try (InputStream in = p.getFileSystem(conf).open(p);
                    NDManager tmp = mgr.newSubManager()) {
                CheckpointFormat.restore(CheckpointFormat.read(in, tmp, checkpoint), trained, null);
            }
            Knn.Accuracy after = KnnProbe.run(new FeatureExtractor(trained.encoder(), FeaturePool.MEAN_PATCH), tf,
                    train, val, m.classes().size(), 20, 0.07, mgr);
            System.out.println();
            System.out.printf(Locale.ROOT, "kNN (k 20, T 0.07) on %d held-out images, %d training images as neighbours:%n",
                    val.size(), train.size());
            System.out.println("| encoder | top-1 | top-5 |");
            System.out.println("|---|---|---|");
            System.out.printf(Locale.ROOT, "| random init | %.1f%% | %.1f%% |%n", 100 * before.top1(), 100 * before.top5());
            System.out.printf(Locale.ROOT, "| SiameseIM pretrained | %.1f%% | %.1f%% |%n", 100 * after.top1(),
                    100 * after.top5());
        }
    }
}
