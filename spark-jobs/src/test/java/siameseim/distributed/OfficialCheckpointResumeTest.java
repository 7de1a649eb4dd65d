package siameseim.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.testing.LocalSpark;
import siameseim.testing.PretrainFixture;

/**
 * {@code pretrain --resume checkpoint-5.pth}, a training checkpoint written by the official
 * code's {@code save_model} (model/src/test/resources/torch), with 2 replicas: the run starts at
 * the step after epoch 5 of its own schedule and continues; {@code finetune --resume} of a PyTorch
 * file is refused in one line on the driver.
 */
class OfficialCheckpointResumeTest {
    static SparkSession spark;
    static String dataset;
    @TempDir
    static Path tmp;
    static final String OFFICIAL = new File("../model/src/test/resources/torch/official-checkpoint-5.pth")
            .getAbsolutePath();
    static final String[] FIXTURE_MODEL = {"model.encoder.width=16", "model.decoder.width=16",
        "model.decoder.predictor-depth=2"};

    @BeforeAll
    static void start() throws Exception {
        spark = LocalSpark.start();
        dataset = PretrainFixture.dataset(spark, tmp);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void pretrainContinuesTheOfficialCheckpointFromTheStepAfterItsEpoch() throws Exception {
        String out = tmp.resolve("run").toString();
        List<String> more = new ArrayList<>(List.of(FIXTURE_MODEL));
        more.addAll(List.of("optim.epochs=7", "train.max-steps=38"));
        List<String> lines = new ArrayList<>();
        DistributedTraining.Result r = DistributedTraining.run(spark, PretrainFixture.config(dataset, out,
                more.toArray(String[]::new)), OFFICIAL, lines::add);
        lines.forEach(System.out::println);
        assertEquals(36, r.rank0().resumedFrom(), "48 images / batch 8 = 6 steps per epoch; epochs 0-5 done");
        assertEquals(38, r.rank0().steps());
        assertTrue(Files.exists(Path.of(out, "imported", "ckpt-0000000036.safetensors")));
        assertTrue(Files.exists(Path.of(out, "checkpoints", "ckpt-0000000038.safetensors")), lines.toString());
    }

    @Test
    void finetuneResumeOfAPyTorchFileIsRefusedOnTheDriver() {
        siameseim.config.PretrainConfig cfg = PretrainFixture.config(dataset, tmp.resolve("ft").toString(), FIXTURE_MODEL);
        Exception e = assertThrows(IllegalArgumentException.class, () -> TrainingKind.FINETUNE.resumeSeed(cfg,
                spark.sparkContext().hadoopConfiguration(), new siameseim.train.Schedule(8, 6, 60), OFFICIAL));
        assertTrue(e.getMessage().contains("--weights") && e.getMessage().contains(OFFICIAL), e.getMessage());
    }
}
