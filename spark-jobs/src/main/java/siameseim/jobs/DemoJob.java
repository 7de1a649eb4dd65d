package siameseim.jobs;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import siameseim.config.ConfigLoader;
import siameseim.config.PretrainConfig;
import siameseim.distributed.DistributedTraining;
import siameseim.eval.Knn;
import siameseim.evaluate.RandomVsPretrained;
import siameseim.metrics.FeatureMap;
import siameseim.prepare.BuiltInData;

/**
 * The main job on the built-in data: write the synthetic dataset as an ImageNet-layout tree,
 * prepare it with Spark, pretrain the demo config with two replicas in local mode, then score the
 * pretrained encoder and a randomly initialised one on the same held-out images (kNN and the
 * linear probe) and draw both encoders' held-out features (PCA) into the run's plots folder.
 */
public final class DemoJob implements Job {

    @Override
    public String name() {
        return "demo";
    }

    @Override
    public String summary() {
        return "built-in data -> prepare -> pretrain (2 replicas, local mode) -> kNN and linear probe against random"
                + " init, a PCA picture of the features";
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
        try (JobArgs.JobSession session = a.session("siameseim demo")) {
            SparkSession spark = session.spark();
            Configuration conf = spark.sparkContext().hadoopConfiguration();
            BuiltInData.prepare(spark, cfg, root, System.out::println);
            FileSystem fs = root.getFileSystem(conf);
            fs.delete(new Path(cfg.train().output()), true); // a demo run starts from scratch
            DistributedTraining.Result r = DistributedTraining.run(spark, cfg, null, System.out::println);
            System.out.printf(Locale.ROOT, "[demo] pretrained %d steps in %s (%.1f images/s, %d replicas)%n",
                    r.rank0().steps(), siameseim.events.Console.duration(r.seconds()), r.rank0().imagesPerSecond(),
                    r.replicas().size());
            RandomVsPretrained.Result k = RandomVsPretrained.run(conf, cfg, r.rank0().checkpoint());
            System.out.printf(Locale.ROOT, "%nOn %d held-out images (kNN k %d, T %.2f, the %d training images as neighbours;"
                    + " linear probe trained on them, %s epochs):%n| encoder | kNN top-1 | kNN top-5 | linear probe top-1 |%n"
                    + "|---|---|---|---|%n", k.test(), cfg.eval().knn().k(), cfg.eval().knn().temperature(), k.train(),
                    siameseim.events.Console.trim(cfg.eval().linear().epochs()));
            row("random init", k.random());
            row("SiameseIM pretrained", k.pretrained());
            Path map = new Path(new Path(cfg.train().output(), "plots"), "features-pca.png");
            FeatureMap.writePca(JavaSparkContext.fromSparkContext(spark.sparkContext()), conf, map,
                    "Held-out features (mean-pooled patch tokens, L2-normalised), first two principal components",
                    List.of(panel("random init", k.random(), k.dim()), panel("SiameseIM pretrained", k.pretrained(),
                            k.dim())), k.testLabels(), k.classes());
            System.out.println("\n[demo] the held-out features, random init beside pretrained (PCA): " + map);
            System.out.println("[demo] the run's other plots (loss, lr, throughput) are beside it; checkpoint: "
                    + r.rank0().checkpoint());
        }
        return 0;
    }

    private static void row(String encoder, RandomVsPretrained.Scores s) {
        System.out.printf(Locale.ROOT, "| %s | %.1f%% | %.1f%% | %.1f%% |%n", encoder, 100 * s.knn().top1(),
                100 * s.knn().top5(), 100 * s.linear());
    }

    private static FeatureMap.Panel panel(String encoder, RandomVsPretrained.Scores s, int dim) {
        return new FeatureMap.Panel(String.format(Locale.ROOT, "%s: kNN %.1f%%, linear probe %.1f%%", encoder,
                100 * s.knn().top1(), 100 * s.linear()), Knn.normalise(s.testFeatures().clone(), dim), dim);
    }
}
