package siameseim.jobs;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import siameseim.config.ConfigLoader;
import siameseim.config.PretrainConfig;
import siameseim.distributed.DistributedTraining;
import siameseim.evaluate.KnnProbe;
import siameseim.prepare.BuiltInData;

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
            KnnProbe.Comparison k = KnnProbe.randomVsPretrained(conf, cfg, r.rank0().checkpoint());
            System.out.printf(Locale.ROOT, "%nkNN (k 20, T 0.07) on %d held-out images, %d training images as"
                    + " neighbours:%n| encoder | top-1 | top-5 |%n|---|---|---|%n", k.test(), k.train());
            System.out.printf(Locale.ROOT, "| random init | %.1f%% | %.1f%% |%n", 100 * k.random().top1(),
                    100 * k.random().top5());
            System.out.printf(Locale.ROOT, "| SiameseIM pretrained | %.1f%% | %.1f%% |%n", 100 * k.pretrained().top1(),
                    100 * k.pretrained().top5());
        }
        return 0;
    }
}
