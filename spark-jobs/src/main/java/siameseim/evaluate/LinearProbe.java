package siameseim.evaluate;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import siameseim.collective.Collective;
import siameseim.collective.Handshake;
import siameseim.config.EvalConfig;
import siameseim.datasets.augment.Resampler;
import siameseim.datasets.shards.Manifest;
import siameseim.spark.Rendezvous;
import siameseim.config.FeaturePool;
import siameseim.spark.Barrier;

/**
 * Linear probe (spec 5.3) on frozen, mean-pooled features: features are extracted by Spark
 * tasks, split into {@code replicas} parts and the head is trained in one barrier stage with
 * gradients averaged across replicas every step, then evaluated on the test split.
 *
 * <p>Deviation: the reference augments the training images (RandomResizedCrop + flip) and runs
 * the frozen encoder every epoch; here the features are computed once from the centre crop, which
 * makes 90 epochs affordable (the common "cached features" variant).
 */
public final class LinearProbe {
    private LinearProbe() {}

    /** Accuracy and what it was measured on. */
    public record Result(double top1, long train, long test, double epochs, int batch, double finalLoss, String weights) {

        /** The job's result table (console, linear-probe.json). */
        public ResultTable table() {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("encoder", weights);
            row.put("train images", train);
            row.put("epochs", epochs);
            row.put("batch", batch);
            row.put("final train loss", finalLoss);
            row.put("test images", test);
            row.put("top-1", top1);
            return new ResultTable("Linear probe").row(row);
        }
    }

    public static Result run(SparkSession spark, EvalConfig cfg, int replicas) throws IOException {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        jsc.setJobGroup("siameseim-linear-probe", "linear probe", false);
        Manifest m = Manifest.read(spark.sparkContext().hadoopConfiguration(), new Path(cfg.dataPath()));
        m.requireLabels("the linear probe");
        int classes = m.classes().size();
        JavaRDD<FeatureRow> train = FeatureExtraction.run(spark, cfg, cfg.trainSplit(), FeaturePool.MEAN_PATCH,
                cfg.trainLimit(), null, Resampler.Filter.BICUBIC).repartition(replicas).cache();
        long count = train.count();
        int dim = train.first().feature().length;
        byte[] secret = Handshake.newSecret();
        EvalConfig.Linear lin = cfg.linear();
        long seed = cfg.seed();
        List<LinearProbeTrainer.Head> heads = Barrier.collectRetryable(Barrier.mapPartitions(train, (Iterator<FeatureRow> it) -> {
            List<FeatureRow> local = new ArrayList<>();
            it.forEachRemaining(local::add);
            BarrierTaskContext ctx = BarrierTaskContext.get();
            try (Collective c = Rendezvous.connect(ctx, null, secret, 120_000, s -> { })) {
                LinearProbeTrainer.Head h = LinearProbeTrainer.train(lin, local, dim, classes, count, c, seed);
                ctx.barrier();
                return ctx.partitionId() == 0 ? List.of(h).iterator() : List.<LinearProbeTrainer.Head>of().iterator();
            }
        }, LinearProbeTrainer.Head.class));
        train.unpersist();
        List<FeatureRow> test = FeatureExtraction.run(spark, cfg, cfg.testSplit(), FeaturePool.MEAN_PATCH, 0, null,
                Resampler.Filter.BICUBIC).collect();
        LinearProbeTrainer.Head h = heads.get(0);
        double acc = LinearProbeTrainer.accuracy(h, test);
        jsc.clearJobGroup();
        return new Result(acc, count, test.size(), lin.epochs(), lin.batchSize(), h.finalLoss(),
                cfg.weights() == null ? "random init (seed " + cfg.seed() + ")" : cfg.weights());
    }
}
