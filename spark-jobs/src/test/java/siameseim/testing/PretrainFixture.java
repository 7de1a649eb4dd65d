package siameseim.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import siameseim.checkpoint.CheckpointFormat;
import siameseim.config.ConfigLoader;
import siameseim.config.PrepareConfig;
import siameseim.config.PretrainConfig;
import siameseim.model.nn.Torch;
import siameseim.prepare.DatasetPreparation;

/** A tiny prepared dataset and the unit-size pretraining config for the Spark job tests. */
public final class PretrainFixture {
    private PretrainFixture() {}

    /** 3 classes x 16 training images of 40 px, prepared with the real prepare job. */
    public static String dataset(SparkSession spark, Path tmp) throws Exception {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        org.apache.hadoop.fs.Path in = new org.apache.hadoop.fs.Path(tmp.resolve("images").toString());
        Fixtures.cleanTree(conf, in, 3, 16, 1);
        String out = tmp.resolve("dataset").toString();
        DatasetPreparation.run(spark, PrepareConfig.from(ConfigLoader.load(null, List.of("prepare.input=" + in,
                "prepare.output=" + out, "prepare.tasks=2"))));
        return out;
    }

    /** Unit-size model, global batch 8 over 2 replicas, one intra-op thread each. */
    public static PretrainConfig config(String dataset, String output, String... more) {
        List<String> sets = new ArrayList<>(MODEL);
        sets.addAll(List.of("data.path=" + dataset, "train.output=" + output));
        sets.addAll(Arrays.asList(more));
        return ConfigLoader.loadPretrain(null, sets);
    }

    /** The unit-size model and schedule as --set overrides. */
    public static final List<String> MODEL = TestConfigs.unitModel("optim.batch-size=8", "optim.lr=1e-3",
            "optim.epochs=4", "optim.warmup-epochs=1", "ema.momentum=0.99", "augment.crop-scale=[0.2, 1.0]",
            "train.threads=1", "distributed.replicas=2", "distributed.timeout-seconds=60", "checkpoint.every-steps=3",
            "data.shuffle-window=16");

    /** Every tensor of a checkpoint, as floats. */
    public static Map<String, float[]> tensors(Configuration conf, String checkpoint) throws Exception {
        Torch.init();
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(checkpoint);
        try (InputStream in = p.getFileSystem(conf).open(p);
                NDManager m = NDManager.newBaseManager()) {
            CheckpointFormat.Loaded l = CheckpointFormat.read(in, m, checkpoint);
            Map<String, float[]> out = new java.util.TreeMap<>();
            for (Map.Entry<String, NDArray> e : l.tensors().entrySet()) {
                out.put(e.getKey(), e.getValue().toFloatArray());
            }
            return out;
        }
    }
}
