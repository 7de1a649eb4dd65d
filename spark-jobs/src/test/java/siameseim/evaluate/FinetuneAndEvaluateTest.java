package siameseim.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.testing.EvalFixture;
import siameseim.config.ConfigLoader;
import siameseim.config.EvalConfig;
import siameseim.config.PretrainConfig;
import siameseim.distributed.DistributedTraining;
import siameseim.distributed.TrainingKind;
import siameseim.testing.LocalSpark;

/**
 * The finetune job (2 replicas, per-epoch evaluation, checkpoints, exact resume) and the evaluate
 * job on image folders, on the three colour classes of {@link EvaluationJobsTest}.
 */
class FinetuneAndEvaluateTest {
    static SparkSession spark;
    @TempDir
    static Path tmp;
    static String dataset;
    static String images;
    static final String[] NAMES = EvalFixture.NAMES;

    @BeforeAll
    static void start() throws Exception {
        spark = LocalSpark.start();
        images = tmp.resolve("images").toString();
        dataset = EvalFixture.coloursDataset(spark, tmp, 16);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static PretrainConfig cfg(String output, String... more) {
        List<String> sets = new ArrayList<>(List.of(EvalFixture.UNIT));
        sets.addAll(List.of("data.path=" + dataset, "train.output=" + output, "distributed.replicas=2",
                "finetune.batch-size=12", "finetune.epochs=3", "finetune.warmup-epochs=1", "finetune.base-lr=0.2",
                "finetune.crop-scale=[0.5, 1.0]", "checkpoint.every-steps=2", "eval.batch-size=7"));
        sets.addAll(List.of(more));
        return ConfigLoader.loadPretrain(null, sets);
    }

    @Test
    void finetuneEvaluatesEachEpochAndTheEvaluateJobAgrees() throws Exception {
        String out = tmp.resolve("ft").toString();
        DistributedTraining.Result r = DistributedTraining.run(spark, cfg(out), null, s -> { },
                TrainingKind.FINETUNE);
        assertEquals(3, r.evaluations().size(), "one evaluation per epoch");
        assertEquals(12, r.rank0().steps(), "48 images / 12 per step x 3 epochs");
        siameseim.events.Event.Evaluation last = r.evaluations().get(2);
        assertEquals(18, last.images(), "the two replicas' shares cover the test split once");
        assertTrue(last.top1() >= 0.9, "colour classes: top-1 " + last.top1());
        assertEquals(1.0, last.top5(), "3 classes: always inside the top 5");
        assertTrue(Files.exists(Path.of(out, "checkpoints/ckpt-0000000012.safetensors")));
        assertTrue(Files.list(Path.of(out, "metrics")).findAny().isPresent());

        // the same images, read from the original folder by the evaluate job, give the same top-1
        EvalConfig ec = EvalConfig.from(ConfigLoader.load(null, List.of(EvalFixture.UNIT)));
        String ckpt = r.rank0().checkpoint();
        FolderEvaluation.Result e = FolderEvaluation.run(spark, ec, ckpt, images + "/val", null, true);
        assertEquals(18, e.images());
        assertEquals(last.top1(), e.top1(), 1e-9);
        assertEquals(3, e.folderClasses());
        assertTrue(!e.restricted(), "all classes present: nothing to restrict");
    }

    @Test
    void aResumedFinetuneEqualsTheUninterruptedOne() throws Exception {
        DistributedTraining.Result full = DistributedTraining.run(spark, cfg(tmp.resolve("full").toString(),
                "finetune.eval-every-epochs=0"), null, s -> { }, TrainingKind.FINETUNE);
        String out = tmp.resolve("parts").toString();
        DistributedTraining.run(spark, cfg(out, "finetune.eval-every-epochs=0", "train.max-steps=5"), null, s -> { },
                TrainingKind.FINETUNE);
        DistributedTraining.Result rest = DistributedTraining.run(spark, cfg(out, "finetune.eval-every-epochs=0"),
                null, s -> { }, TrainingKind.FINETUNE);
        assertEquals(5, rest.rank0().resumedFrom(), "the stopped run checkpointed its last step");
        assertEquals(full.rank0().parameterChecksum(), rest.rank0().parameterChecksum(),
                "mixup, RandAugment, erasing and drop path are seeded by position and step");
    }

    @Test
    void foldersAreMappedRestrictedAndBadFilesNamed() throws Exception {
        String out = tmp.resolve("ft-small").toString();
        DistributedTraining.Result r = DistributedTraining.run(spark, cfg(out, "finetune.epochs=1",
                "finetune.eval-every-epochs=0"), null, s -> { }, TrainingKind.FINETUNE);
        String ckpt = r.rank0().checkpoint();
        // a robustness-style folder: two of the three classes under other names, plus a broken file
        Path sub = tmp.resolve("subset");
        for (int i = 0; i < 2; i++) {
            Path dir = Files.createDirectories(sub.resolve(i == 0 ? "red" : "green"));
            try (var files = Files.list(Path.of(images, "val", NAMES[i]))) {
                for (Path f : files.toList()) {
                    Files.copy(f, dir.resolve(f.getFileName()));
                }
            }
        }
        Files.writeString(sub.resolve("red/broken.jpg"), "not an image");
        EvalConfig ec = EvalConfig.from(ConfigLoader.load(null, List.of(EvalFixture.UNIT)));
        Exception unknown = assertThrows(IllegalArgumentException.class,
                () -> FolderEvaluation.run(spark, ec, ckpt, sub.toString(), null, true));
        assertTrue(unknown.getMessage().contains("green") && unknown.getMessage().contains("--class-map"),
                unknown.getMessage());
        Path map = tmp.resolve("map.txt");
        Files.writeString(map, "# folder -> wnid\nred " + NAMES[0] + "\ngreen 1\n", StandardCharsets.UTF_8);
        FolderEvaluation.Result e = FolderEvaluation.run(spark, ec, ckpt, sub.toString(), map.toString(), true);
        assertEquals(12, e.images());
        assertEquals(1, e.unreadable().size());
        assertTrue(e.unreadable().get(0).contains("broken.jpg"), e.unreadable().toString());
        assertTrue(e.restricted());
        assertEquals(1.0, e.top5(), "two allowed classes: always within the top 5");
        // restricting can only help: a prediction outside the folder's classes is never made
        FolderEvaluation.Result all = FolderEvaluation.run(spark, ec, ckpt, sub.toString(), map.toString(), false);
        assertTrue(e.top1() >= all.top1(), e.top1() + " vs " + all.top1());
        // encoder-only weights are not a classifier
        Path encoderOnly = tmp.resolve("encoder.safetensors");
        try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager();
                var os = Files.newOutputStream(encoderOnly)) {
            siameseim.model.io.Safetensors.write(os, java.util.Map.of("cls_token",
                    m.zeros(new ai.djl.ndarray.types.Shape(1, 1, 32))), java.util.Map.of());
        }
        Exception noHead = assertThrows(java.io.IOException.class,
                () -> Classifiers.describe(encoderOnly.toString(), ec.model(), new Configuration()));
        assertTrue(noHead.getMessage().contains("no classification head"), noHead.getMessage());
    }
}
