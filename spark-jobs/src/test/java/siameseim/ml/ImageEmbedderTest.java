package siameseim.ml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.checkpoint.CheckpointFormat;
import siameseim.checkpoint.Encoders;
import siameseim.config.ConfigLoader;
import siameseim.config.FeaturePool;
import siameseim.config.PretrainConfig;
import siameseim.datasets.augment.EvalTransform;
import siameseim.datasets.augment.Resampler;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.prepare.ImageFolderWriter;
import siameseim.eval.FeatureExtractor;
import siameseim.model.io.Safetensors;
import siameseim.model.io.StateDict;
import siameseim.model.vit.VisionTransformer;
import siameseim.testing.EvalFixture;
import siameseim.testing.LocalSpark;

/**
 * The Spark ML transformer: inside a Pipeline it gives every image the encoder's own embedding
 * (and an undecodable one a null vector); the PipelineModel saved with its weights loads in a
 * fresh session, from the saved copy alone, and gives the same vectors.
 */
class ImageEmbedderTest {
    static SparkSession spark;
    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void aPipelineEmbedsSavesAndLoadsWithItsWeights() throws Exception {
        PretrainConfig pc = ConfigLoader.loadPretrain(null, List.of(EvalFixture.UNIT));
        Path weights = weights(tmp.resolve("encoder.safetensors"));
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        images();
        Dataset<Row> files = spark.read().format("binaryFile").load(tmp.resolve("images/train").toString() + "/*/*");

        ImageEmbedder embedder = new ImageEmbedder().setInputCol("content").setOutputCol("embedding")
                .setWeights(weights.toString()).setPooling("cls").setBatchSize(4);
        PipelineModel model = new Pipeline().setStages(new PipelineStage[] {embedder}).fit(files);
        Map<String, Vector> got = vectors(model.transform(files));
        assertEquals(10, got.size(), "9 images and the broken file");

        Map<String, double[]> expect = new HashMap<>();
        try (NDManager m = NDManager.newBaseManager()) {
            VisionTransformer enc = Encoders.load(m, pc.model(), weights.toString(), 0, conf);
            FeatureExtractor fx = new FeatureExtractor(enc, FeaturePool.CLS);
            EvalTransform tf = new EvalTransform(16, Resampler.Filter.BICUBIC, pc.augment().mean(), pc.augment().std());
            for (Row r : files.select("path", "content").collectAsList()) {
                if (r.getString(0).endsWith("broken.JPEG")) {
                    continue;
                }
                float[] x = new float[3 * 16 * 16];
                tf.apply(ImageDecoder.named("opencv").decode((byte[]) r.get(1), Long.MAX_VALUE).image(), x, 0);
                float[] f = fx.extract(x, 1, 16, m);
                double[] d = new double[f.length];
                for (int i = 0; i < f.length; i++) {
                    d[i] = f[i];
                }
                expect.put(r.getString(0), d);
            }
        }
        for (Map.Entry<String, Vector> e : got.entrySet()) {
            if (e.getKey().endsWith("broken.JPEG")) {
                assertNull(e.getValue(), "an undecodable image gets a null vector");
            } else {
                assertArrayEquals(expect.get(e.getKey()), e.getValue().toArray(), 1e-6, e.getKey());
            }
        }

        // fp16-mixed inference (autocast in the thread that runs the encoder): fp16's precision, not fp32's bits
        Map<String, Vector> half = vectors(embedder.copy(new org.apache.spark.ml.param.ParamMap())
                .setPrecision("fp16-mixed").transform(files));
        double worst = 0;
        for (Map.Entry<String, double[]> e : expect.entrySet()) {
            double[] h = half.get(e.getKey()).toArray();
            double norm = 0;
            for (int i = 0; i < h.length; i++) {
                worst = Math.max(worst, Math.abs(h[i] - e.getValue()[i]));
                norm = Math.max(norm, Math.abs(e.getValue()[i]));
            }
            assertTrue(worst <= 1e-2 * norm, e.getKey() + ": fp16-mixed vector off by " + worst);
        }
        System.out.printf("fp16-mixed embeddings: max difference to fp32 %.2e%n", worst);
        assertTrue(worst > 0, "fp16-mixed ran in fp16");

        String saved = tmp.resolve("model").toString();
        model.write().overwrite().save(saved);
        Files.delete(weights); // the saved model holds its own copy
        SparkSession fresh = spark.newSession();
        Map<String, Vector> again = vectors(PipelineModel.load(saved).transform(fresh.read().format("binaryFile")
                .load(tmp.resolve("images/train").toString() + "/*/*")));
        for (Map.Entry<String, Vector> e : got.entrySet()) {
            if (e.getValue() != null) {
                assertArrayEquals(e.getValue().toArray(), again.get(e.getKey()).toArray(), 0.0, e.getKey());
            }
        }
        assertTrue(Files.exists(Path.of(saved)));
    }

    @Test
    void aPyTorchFileEmbedsAsItsSafetensorsCopyAndSavesAsPth() throws Exception {
        // written by PyTorch (model/src/test/resources/torch): the released form, and its tensors as safetensors
        String dir = new java.io.File("../model/src/test/resources/torch/").getCanonicalPath() + "/";
        String arch = CheckpointFormat.architectureJson(ConfigLoader.loadPretrain(null,
                siameseim.testing.TestConfigs.unitModel("model.encoder.width=16", "model.decoder.width=16")).model());
        images();
        Dataset<Row> files = spark.read().format("binaryFile").load(tmp.resolve("images/train").toString() + "/*/*");
        Map<String, Map<String, Vector>> byFile = new HashMap<>();
        for (String w : List.of("release-pretrain.pth", "release-pretrain.expected.safetensors")) {
            ImageEmbedder e = new ImageEmbedder().setInputCol("content").setOutputCol("embedding")
                    .setWeights(dir + w).setArchitecture(arch).setBatchSize(4);
            byFile.put(w, vectors(e.transform(files)));
            if (w.endsWith(".pth")) {
                String saved = tmp.resolve("pth-model").toString();
                e.write().overwrite().save(saved);
                assertTrue(Files.exists(Path.of(saved, "weights.pth")), "the copy keeps its format's name");
                byFile.put("saved", vectors(ImageEmbedder.load(saved).transform(files)));
            }
        }
        Map<String, Vector> pth = byFile.get("release-pretrain.pth");
        assertEquals(10, pth.size());
        for (Map.Entry<String, Vector> e : pth.entrySet()) {
            if (e.getValue() != null) {
                assertArrayEquals(byFile.get("release-pretrain.expected.safetensors").get(e.getKey()).toArray(),
                        e.getValue().toArray(), 0.0, e.getKey());
                assertArrayEquals(byFile.get("saved").get(e.getKey()).toArray(), e.getValue().toArray(), 0.0);
            }
        }
    }

    /** The unit encoder (seed 3) as an export-like file that names its architecture. */
    static Path weights(Path f) throws Exception {
        PretrainConfig pc = ConfigLoader.loadPretrain(null, List.of(EvalFixture.UNIT));
        try (NDManager m = NDManager.newBaseManager(); OutputStream out = Files.newOutputStream(f)) {
            VisionTransformer enc = new VisionTransformer(m, new SplittableRandom(3), pc.model(), "", null);
            Safetensors.write(out, StateDict.of(enc, n -> true),
                    Map.of("architecture", CheckpointFormat.architectureJson(pc.model())));
        }
        return f;
    }

    /** Nine colour images under tmp/images/train/<class>/ and a file that is not an image. */
    static synchronized void images() throws Exception {
        if (Files.exists(tmp.resolve("images"))) {
            return;
        }
        org.apache.hadoop.fs.Path images = new org.apache.hadoop.fs.Path(tmp.resolve("images").toString());
        ImageFolderWriter.write(spark.sparkContext().hadoopConfiguration(), images, "train", EvalFixture.colours(3, 1),
                EvalFixture.NAMES, 95);
        Files.writeString(tmp.resolve("images/train/" + EvalFixture.NAMES[0] + "/broken.JPEG"), "not an image");
    }

    @Test
    void theEmbedJobOnAnImageFolderAndOnATableGivesTheTransformersVectors() throws Exception {
        images();
        Path w = weights(tmp.resolve("job-encoder.safetensors"));
        String dir = tmp.resolve("images").toString();
        siameseim.jobs.Jobs.run(spark, "embed", "--weights", w.toString(), "--images", dir, "--output",
                tmp.resolve("emb-images").toString());
        Dataset<Row> files = spark.read().format("binaryFile").option("recursiveFileLookup", "true").load(dir);
        Map<String, Vector> expect = vectors(new ImageEmbedder().setWeights(w.toString()).transform(files));
        List<Row> rows = spark.read().parquet(tmp.resolve("emb-images").toString()).collectAsList();
        assertEquals(10, rows.size());
        for (Row r : rows) {
            Vector v = expect.get(r.getString(0));
            if (v == null) {
                assertTrue(r.isNullAt(1) && r.getString(0).endsWith("broken.JPEG"), r.toString());
                continue;
            }
            for (int i = 0; i < v.size(); i++) {
                assertEquals((float) v.apply(i), (Float) r.getList(1).get(i), 0f, r.getString(0));
            }
        }
        String table = tmp.resolve("table").toString();
        files.selectExpr("path AS key", "content AS image").write().parquet(table);
        siameseim.jobs.Jobs.run(spark, "embed", "--weights", w.toString(), "--table", table, "--output",
                tmp.resolve("emb-table").toString());
        assertEquals(9, spark.read().parquet(tmp.resolve("emb-table").toString()).where("embedding IS NOT NULL")
                .count());
    }

    private static Map<String, Vector> vectors(Dataset<Row> df) {
        Map<String, Vector> out = new HashMap<>();
        for (Row r : df.select("path", "embedding").collectAsList()) {
            out.put(r.getString(0), r.isNullAt(1) ? null : (Vector) r.get(1));
        }
        return out;
    }
}
