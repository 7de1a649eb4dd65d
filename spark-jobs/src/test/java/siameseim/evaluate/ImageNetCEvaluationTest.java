package siameseim.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.config.ConfigLoader;
import siameseim.config.EvalConfig;
import siameseim.datasets.augment.EvalTransform;
import siameseim.datasets.augment.Resampler;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.model.vit.VitClassifier;
import siameseim.testing.EvalFixture;
import siameseim.testing.LocalSpark;

/**
 * {@code evaluate} on an ImageNet-C tree ({@code <corruption>/<severity>/<class>/<image>}),
 * generated here, with the official fine-tuned checkpoint written by PyTorch (10 classes,
 * model/src/test/resources/torch): one Spark job over all 75 folders gives, per corruption and
 * severity, the error that the classifier's own predictions (computed here, image by image, in
 * memory) give, and CE, mCE and 1 - mCE as Hendrycks and Dietterich define them.
 */
class ImageNetCEvaluationTest {
    @TempDir
    static Path tmp;
    static SparkSession spark;
    static final String WEIGHTS = new File("../model/src/test/resources/torch/official-finetuned-99.pth")
            .getAbsolutePath();

    @BeforeAll
    static void start() {
        spark = LocalSpark.start();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static EvalConfig cfg() {
        List<String> sets = new ArrayList<>(List.of(EvalFixture.UNIT));
        sets.addAll(List.of("model.encoder.width=16", "model.decoder.width=16", "eval.batch-size=7"));
        return EvalConfig.from(ConfigLoader.load(null, sets));
    }

    @Test
    void oneJobScoresEveryCorruptionAndSeverityAndSummarisesAsTheBenchmarkDoes() throws Exception {
        EvalConfig cfg = cfg();
        Path root = tmp.resolve("imagenet-c");
        SplittableRandom rng = new SplittableRandom(6);
        Map<String, List<Path>> byGroup = new TreeMap<>();
        for (String corruption : CorruptionErrors.ALEXNET.keySet()) {
            for (int sev = 1; sev <= 5; sev++) {
                String group = corruption + "/" + sev;
                for (int cls : new int[] {0, 3, 7}) {
                    Path dir = Files.createDirectories(root.resolve(group).resolve(Integer.toString(cls)));
                    for (int i = 0; i < 2; i++) {
                        BufferedImage img = new BufferedImage(20, 20, BufferedImage.TYPE_INT_RGB);
                        for (int y = 0; y < 20; y++) {
                            for (int x = 0; x < 20; x++) {
                                img.setRGB(x, y, rng.nextInt(1 << 24));
                            }
                        }
                        Path f = dir.resolve("img" + i + ".png");
                        ImageIO.write(img, "png", f.toFile());
                        byGroup.computeIfAbsent(group, k -> new ArrayList<>()).add(f);
                    }
                }
            }
        }
        // the oracle: each image's prediction among the tree's classes, by the same classifier in memory
        Configuration conf = new Configuration();
        Classifiers.Description d = Classifiers.describe(WEIGHTS, cfg.model(), conf);
        assertEquals(10, d.classes());
        EvalTransform tf = new EvalTransform(16, Resampler.Filter.BICUBIC, cfg.augment().mean(), cfg.augment().std());
        ImageDecoder dec = ImageDecoder.named(cfg.decoder());
        Map<String, Map<Integer, Double>> expected = new TreeMap<>();
        try (NDManager m = NDManager.newBaseManager()) {
            VitClassifier model = Classifiers.load(m, WEIGHTS, d, conf);
            for (Map.Entry<String, List<Path>> g : byGroup.entrySet()) {
                int wrong = 0;
                for (Path f : g.getValue()) {
                    float[] x = new float[3 * 16 * 16];
                    tf.apply(dec.decode(Files.readAllBytes(f), Long.MAX_VALUE).image(), x, 0);
                    float[] logits = model.forward(m.create(x, new Shape(1, 3, 16, 16)), false).toFloatArray();
                    int label = Integer.parseInt(f.getParent().getFileName().toString());
                    int best = 0;
                    for (int c : new int[] {3, 7}) { // restricted to the folder's classes, as ImageNet-A/R
                        best = logits[c] > logits[best] ? c : best;
                    }
                    wrong += best == label ? 0 : 1;
                }
                String[] cs = g.getKey().split("/");
                expected.computeIfAbsent(cs[0], k -> new TreeMap<>()).put(Integer.parseInt(cs[1]),
                        wrong / (double) g.getValue().size());
            }
        }
        long jobsBefore = spark.sparkContext().statusTracker().getJobIdsForGroup("siameseim-evaluate").length;
        FolderEvaluation.Result r = FolderEvaluation.run(spark, cfg, WEIGHTS, root.toString(), null, true);
        assertEquals(1, spark.sparkContext().statusTracker().getJobIdsForGroup("siameseim-evaluate").length
                - jobsBefore, "one job over all 75 folders");
        assertEquals(75 * 6, r.images());
        assertEquals(75, r.groups().size());
        CorruptionErrors.Summary s = r.corruption();
        assertEquals(15, s.counted());
        double mce = 0;
        for (CorruptionErrors.Corruption c : s.corruptions()) {
            Map<Integer, Double> e = expected.get(c.name());
            assertEquals(e.keySet(), c.errorBySeverity().keySet(), c.name());
            e.forEach((sev, err) -> assertEquals(err, c.errorBySeverity().get(sev), 1e-12, c.name() + "/" + sev));
            double mean = e.values().stream().mapToDouble(Double::doubleValue).sum() / 5;
            assertEquals(mean / CorruptionErrors.ALEXNET.get(c.name()), c.ce(), 1e-12, c.name());
            mce += c.ce() / 15;
        }
        assertEquals(mce, s.mce(), 1e-12);
        assertEquals(1 - mce, s.robustness(), 1e-12);
    }

    @Test
    void corruptionErrorIsNormalisedByAlexNetsAndNeedsAllFiveSeverities() {
        Map<String, Map<Integer, Double>> errors = new LinkedHashMap<>();
        errors.put("fog", Map.of(1, 0.1, 2, 0.2, 3, 0.3, 4, 0.4, 5, 0.5)); // mean 0.3
        errors.put("brightness", Map.of(1, 0.2, 2, 0.2, 3, 0.2, 4, 0.2, 5, 0.2));
        errors.put("speckle_noise", Map.of(1, 0.9)); // a held-out corruption: reported, not in mCE
        CorruptionErrors.Summary s = CorruptionErrors.summarise(errors);
        assertEquals(2, s.counted());
        assertEquals(List.of("speckle_noise"), s.extra());
        double fog = 0.3 / 0.819324;
        double brightness = 0.2 / 0.564592;
        assertEquals((fog + brightness) / 2, s.mce(), 1e-12);
        assertEquals(1 - (fog + brightness) / 2, s.robustness(), 1e-12);
        errors.put("snow", Map.of(1, 0.5, 2, 0.5));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CorruptionErrors.summarise(errors));
        assertTrue(e.getMessage().contains("snow"), e.getMessage());
    }
}
