package siameseim.evaluate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.testing.EvalFixture;
import siameseim.checkpoint.Encoders;
import siameseim.config.ConfigLoader;
import siameseim.config.EvalConfig;
import siameseim.config.PretrainConfig;
import siameseim.datasets.augment.Resampler;
import siameseim.eval.FeatureExtractor;
import siameseim.config.FeaturePool;
import siameseim.eval.Knn;
import siameseim.model.io.Safetensors;
import siameseim.model.io.WeightsFile;
import siameseim.model.nn.CrossReplicaMean;
import siameseim.model.nn.Torch;
import siameseim.model.optim.GradientReducer;
import siameseim.model.vit.VisionTransformer;
import siameseim.testing.LocalSpark;
import siameseim.train.Pretrainer;
import siameseim.train.SyntheticBatches;

/**
 * The evaluation jobs on a dataset whose three classes differ in colour (so any encoder, even a
 * random one, separates them), and export / import of the encoder.
 */
class EvaluationJobsTest {
    static SparkSession spark;
    @TempDir
    static Path tmp;
    static String dataset;

    @BeforeAll
    static void start() throws Exception {
        spark = LocalSpark.start();
        dataset = EvalFixture.coloursDataset(spark, tmp, 20);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static EvalConfig cfg(String... more) {
        List<String> sets = new ArrayList<>(List.of(EvalFixture.UNIT));
        sets.add("data.path=" + dataset);
        sets.addAll(List.of(more));
        return EvalConfig.from(ConfigLoader.load(null, sets));
    }

    @Test
    void distributedKnnEqualsTheInMemoryKnn() throws Exception {
        EvalConfig c = cfg("eval.knn.k=5");
        KnnEvaluation.Result r = KnnEvaluation.run(spark, c);
        assertEquals(60, r.train());
        assertEquals(18, r.test());
        List<FeatureRow> tr = FeatureExtraction.run(spark, c, "train", FeaturePool.MEAN_PATCH, 0, null,
                Resampler.Filter.BICUBIC).collect();
        List<FeatureRow> te = FeatureExtraction.run(spark, c, "val", FeaturePool.MEAN_PATCH, 0, null,
                Resampler.Filter.BICUBIC).collect();
        Knn.Accuracy expect = Knn.evaluate(flat(tr), labels(tr), flat(te), labels(te), 32, 3, 5, 0.07);
        assertEquals(expect.top1(), r.top1(), 1e-9);
        assertEquals(1.0, r.top1(), "colour classes are separable by any encoder");
    }

    @Test
    void knnTakesTheOfficialReleasedPthAndItsFp16Copy() throws Exception {
        // written by PyTorch (model/src/test/resources/torch/generate.py): width 16, as the fixture's model
        String dir = new java.io.File("../model/src/test/resources/torch/").getCanonicalPath();
        KnnEvaluation.Result f32 = KnnEvaluation.run(spark, cfg("model.encoder.width=16", "model.decoder.width=16",
                "eval.knn.k=5", "eval.weights=" + dir + "/release-pretrain.pth"));
        assertEquals(18, f32.test());
        KnnEvaluation.Result f16 = KnnEvaluation.run(spark, cfg("model.encoder.width=16", "model.decoder.width=16",
                "eval.knn.k=5", "eval.weights=" + dir + "/release-pretrain-fp16.pth"));
        assertEquals(18, f16.test());
        Exception wrong = assertThrows(Exception.class, () -> KnnEvaluation.run(spark, cfg("eval.knn.k=5",
                "eval.weights=" + dir + "/release-pretrain.pth")), "a width-32 config");
        assertTrue(wrong.getMessage().contains("release-pretrain.pth") && wrong.getMessage().contains("wrong shapes"),
                wrong.getMessage());
    }

    @Test
    void exportTakesTheOfficialTrainingCheckpointWithTheConfigThatDescribesIt() throws Exception {
        String dir = new java.io.File("../model/src/test/resources/torch/").getCanonicalPath() + "/";
        String official = dir + "official-checkpoint-5.pth";
        Configuration conf = new Configuration();
        IOException noArch = assertThrows(IOException.class, () -> EncoderExport.export(conf, official,
                tmp.resolve("no-arch").toString(), EncoderExport.Format.PTH, null));
        assertTrue(noArch.getMessage().contains("--conf"), noArch.getMessage());
        PretrainConfig arch = ConfigLoader.loadPretrain(null, siameseim.testing.TestConfigs.unitModel(
                "model.encoder.width=16", "model.decoder.width=16"));
        EncoderExport.Result r = EncoderExport.export(conf, official, tmp.resolve("official").toString(),
                EncoderExport.Format.PTH, arch);
        assertEquals(6, r.step(), "epoch 5 done");
        assertEquals(2 + 2 + 12 * 2, r.tensors());
        try (NDManager m = NDManager.newBaseManager();
                WeightsFile ours = WeightsFile.open(tmp.resolve("official/encoder.pth").toString(), conf);
                var in = Files.newInputStream(Path.of(dir + "official-checkpoint-5.expected.safetensors"))) {
            Map<String, NDArray> expected = Safetensors.read(in, m, "expected").tensors();
            Map<String, NDArray> got = ours.read(n -> true, m);
            for (Map.Entry<String, NDArray> e : got.entrySet()) {
                assertArrayEquals(expected.get(e.getKey()).toFloatArray(), e.getValue().toFloatArray(), e.getKey());
            }
        }
    }

    @Test
    void fewShotAndLinearProbeSeparateTheColourClasses() throws Exception {
        FewShotEvaluation.Result f = FewShotEvaluation.run(spark, cfg("eval.few-shot.per-class=4"));
        assertEquals(12, f.train());
        assertEquals(0.1 / 12, f.lambda(), 1e-12);
        assertTrue(f.top1() >= 0.9, "few-shot " + f.top1());
        LinearProbe.Result l = LinearProbe.run(spark, cfg("eval.linear.batch-size=12", "eval.linear.epochs=20",
                "eval.linear.warmup-epochs=2", "eval.linear.base-lr=100"), 2);
        assertTrue(l.top1() >= 0.9, "linear probe " + l.top1() + " (final loss " + l.finalLoss() + ")");
        assertTrue(l.finalLoss() < 1.0, "the head trained: loss " + l.finalLoss());
    }

    @Test
    void randomVsPretrainedScoresBothEncodersOnTheSameImages() throws Exception {
        Torch.init(1);
        PretrainConfig pc = ConfigLoader.loadPretrain(null, concat(EvalFixture.UNIT, "data.path=" + dataset,
                "eval.linear.batch-size=12", "eval.linear.epochs=20", "eval.linear.warmup-epochs=2",
                "eval.linear.base-lr=100"));
        Path untrained = tmp.resolve("step0.safetensors");
        Path trained = tmp.resolve("step2.safetensors");
        try (Pretrainer t = new Pretrainer(pc, 4, GradientReducer.IDENTITY, CrossReplicaMean.SINGLE)) {
            try (OutputStream out = Files.newOutputStream(untrained)) {
                t.save(out);
            }
            t.step(List.of(SyntheticBatches.batch(pc, 8, 1)));
            t.step(List.of(SyntheticBatches.batch(pc, 8, 2)));
            try (OutputStream out = Files.newOutputStream(trained)) {
                t.save(out);
            }
        }
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        RandomVsPretrained.Result same = RandomVsPretrained.run(conf, pc, untrained.toString());
        assertEquals(60, same.train());
        assertEquals(18, same.test());
        assertEquals(List.of(EvalFixture.NAMES), same.classes());
        assertEquals(18 * same.dim(), same.random().testFeatures().length);
        assertArrayEquals(same.random().testFeatures(), same.pretrained().testFeatures(),
                "the checkpoint of step 0 is the random init of train.seed");
        assertEquals(same.random().knn(), same.pretrained().knn());
        assertEquals(same.random().linear(), same.pretrained().linear());
        assertEquals(1.0, same.random().knn().top1(), "colour classes are separable by any encoder");
        assertTrue(same.random().linear() >= 0.9, "linear probe " + same.random().linear());
        RandomVsPretrained.Result r = RandomVsPretrained.run(conf, pc, trained.toString());
        assertArrayEquals(same.random().testFeatures(), r.random().testFeatures());
        assertTrue(!java.util.Arrays.equals(r.random().testFeatures(), r.pretrained().testFeatures()),
                "the pretrained features come from the checkpoint");
        assertArrayEquals(same.testLabels(), r.testLabels());
    }

    private static List<String> concat(String[] a, String... b) {
        List<String> out = new ArrayList<>(List.of(a));
        out.addAll(List.of(b));
        return out;
    }

    @Test
    void exportThenImportGivesIdenticalFeatures() throws Exception {
        Torch.init(1);
        PretrainConfig pc = ConfigLoader.loadPretrain(null, List.of(EvalFixture.UNIT));
        Path ckpt = tmp.resolve("ckpt.safetensors");
        try (Pretrainer t = new Pretrainer(pc, 4, GradientReducer.IDENTITY, CrossReplicaMean.SINGLE)) {
            t.step(List.of(SyntheticBatches.batch(pc, 8, 1)));
            t.step(List.of(SyntheticBatches.batch(pc, 8, 2)));
            try (OutputStream out = Files.newOutputStream(ckpt)) {
                t.save(out);
            }
        }
        Configuration conf = new Configuration();
        EncoderExport.Result r = EncoderExport.export(conf, ckpt.toString(), tmp.resolve("export").toString());
        assertEquals(2 + 2 + 12 * 2, r.tensors(), "cls, pos, patch_embed.proj.{weight,bias}, 12 per block");
        try (NDManager m = NDManager.newBaseManager()) {
            VisionTransformer fromCkpt = Encoders.load(m, pc.model(), ckpt.toString(), 0, conf);
            VisionTransformer fromExport = EncoderExport.load(m, conf, tmp.resolve("export").toString());
            float[] images = new float[2 * 3 * 16 * 16];
            SplittableRandom rng = new SplittableRandom(3);
            for (int i = 0; i < images.length; i++) {
                images[i] = (float) rng.nextGaussian();
            }
            for (FeaturePool pool : FeaturePool.values()) {
                assertArrayEquals(new FeatureExtractor(fromCkpt, pool).extract(images, 2, 16, m),
                        new FeatureExtractor(fromExport, pool).extract(images, 2, 16, m));
            }
            // the export holds the online encoder only, under timm names
            try (var in = Files.newInputStream(tmp.resolve("export/encoder.safetensors"))) {
                var names = Safetensors.readHeader(in, "export").entries().stream().map(e -> e.name()).toList();
                assertTrue(names.contains("blocks.1.mlp.fc2.weight") && names.contains("patch_embed.proj.weight"));
                assertTrue(names.stream().noneMatch(n -> n.startsWith("mm_") || n.startsWith("decoder")), names.toString());
            }
            try (var in = Files.newInputStream(tmp.resolve("export/encoder.safetensors"))) {
                assertEquals("pt", Safetensors.readHeader(in, "export").metadata().get("format"),
                        "the metadata Hugging Face tooling reads");
            }
            // --format pth: the same tensors, bit for bit, in torch.save's zip format
            EncoderExport.export(conf, ckpt.toString(), tmp.resolve("export-pth").toString(), EncoderExport.Format.PTH);
            Map<String, NDArray> st;
            Map<String, NDArray> pth;
            try (WeightsFile a = WeightsFile.open(tmp.resolve("export/encoder.safetensors").toString(), conf);
                    WeightsFile b = WeightsFile.open(tmp.resolve("export-pth/encoder.pth").toString(), conf)) {
                assertTrue(b.isTorch());
                st = a.read(n -> true, m);
                pth = b.read(n -> true, m);
            }
            assertEquals(List.copyOf(st.keySet()), List.copyOf(pth.keySet()));
            for (String n : st.keySet()) {
                assertEquals(st.get(n).getShape(), pth.get(n).getShape(), n);
                assertEquals(Safetensors.hostBytes(st.get(n)), Safetensors.hostBytes(pth.get(n)), n);
            }
            // read back as an export directory: the architecture from its config.json
            VisionTransformer fromPth = EncoderExport.load(m, conf, tmp.resolve("export-pth").toString());
            IOException none = assertThrows(IOException.class, () -> EncoderExport.load(m, conf, tmp.toString()));
            assertTrue(none.getMessage().contains("neither encoder.safetensors nor encoder.pth"), none.getMessage());
            assertArrayEquals(new FeatureExtractor(fromCkpt, FeaturePool.CLS).extract(images, 2, 16, m),
                    new FeatureExtractor(fromPth, FeaturePool.CLS).extract(images, 2, 16, m));
            String config = Files.readString(tmp.resolve("export/config.json"));
            assertTrue(config.contains("\"tensor_names\": \"timm\"") && !config.contains("model_type"), config);
            assertEquals(List.of(), sideFiles(tmp.resolve("export")));
        }
    }

    @Test
    void weightsWithoutEncoderTensorsAreRefusedWithTheirNames() throws Exception {
        Path bad = tmp.resolve("other.safetensors");
        try (NDManager m = NDManager.newBaseManager();
                OutputStream out = Files.newOutputStream(bad)) {
            Safetensors.write(out, Map.of("fc.weight", m.ones(new ai.djl.ndarray.types.Shape(2, 2))), Map.of());
        }
        PretrainConfig pc = ConfigLoader.loadPretrain(null, List.of(EvalFixture.UNIT));
        try (NDManager m = NDManager.newBaseManager()) {
            Exception e = assertThrows(Exception.class, () -> Encoders.load(m, pc.model(), bad.toString(), 0,
                    new Configuration()));
            assertTrue(e.getMessage().contains("no encoder tensors") && e.getMessage().contains("fc.weight"),
                    e.getMessage());
        }
    }

    @Test
    void badWeightsFailOnTheDriverBeforeAnyStage() throws Exception {
        Path whole = tmp.resolve("whole.safetensors");
        PretrainConfig pc = ConfigLoader.loadPretrain(null, List.of(EvalFixture.UNIT));
        try (NDManager m = NDManager.newBaseManager();
                OutputStream out = Files.newOutputStream(whole)) {
            VisionTransformer enc = new VisionTransformer(m, new SplittableRandom(1), pc.model(), "", null);
            Safetensors.write(out, siameseim.model.io.StateDict.of(enc, n -> true), Map.of());
        }
        Path cut = tmp.resolve("cut.safetensors");
        byte[] bytes = Files.readAllBytes(whole);
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        spark.sparkContext().setJobGroup("bad-weights", "bad weights", false);
        try {
            Exception e = assertThrows(java.io.IOException.class, () -> KnnEvaluation.run(spark,
                    cfg("eval.weights=" + cut)));
            assertTrue(e.getMessage().contains(cut.toString()) && e.getMessage().contains("truncated"), e.getMessage());
            spark.sparkContext().listenerBus().waitUntilEmpty();
            assertEquals(0, spark.sparkContext().statusTracker().getJobIdsForGroup("bad-weights").length,
                    "no Spark job started");
        } finally {
            spark.sparkContext().clearJobGroup();
        }
    }

    @Test
    void embedWritesEveryImageWithItsKeyLabelSplitAndTheEncodersFeature() throws Exception {
        EvalConfig c = cfg();
        String out = tmp.resolve("embeddings").toString();
        List<String> lines = new ArrayList<>();
        Embeddings.Result r = Embeddings.run(spark, c, List.of(), FeaturePool.CLS, true, out, lines::add);
        assertEquals(78, r.images(), "60 train + 18 val");
        // progress on the driver while it runs (one line per finished task, at most one per 5 s), then the report
        List<String> progress = lines.stream().filter(l -> l.matches(
                "\\[embed] \\d+ of 78 images \\(\\d+%\\), [0-9.]+ images/s, ETA \\d+ s")).toList();
        assertTrue(!progress.isEmpty(), String.join("\n", lines));
        assertTrue(progress.get(progress.size() - 1).startsWith("[embed] 78 of 78 images (100%)"), progress.toString());
        assertTrue(lines.get(lines.size() - 1).startsWith("[embed] 78 images of "), lines.toString());
        assertEquals(32, r.dimension());
        Map<String, float[]> expect = new java.util.HashMap<>();
        for (String split : List.of("train", "val")) {
            for (FeatureRow f : FeatureExtraction.run(spark, c, split, FeaturePool.CLS, 0, null,
                    Resampler.Filter.BICUBIC).collect()) {
                expect.put(split + "/" + f.key() + "/" + f.label(), FeatureExtractor.unitLength(f.feature()));
            }
        }
        List<org.apache.spark.sql.Row> rows = spark.read().parquet(out).collectAsList();
        assertEquals(78, rows.size());
        for (org.apache.spark.sql.Row row : rows) {
            float[] got = new float[row.getList(3).size()];
            for (int i = 0; i < got.length; i++) {
                got[i] = (Float) row.getList(3).get(i);
            }
            String id = row.getString(2) + "/" + row.getString(0) + "/" + row.getInt(1);
            assertArrayEquals(expect.get(id), got, id);
        }
        assertEquals(List.of("embeddings"), java.util.Arrays.stream(tmp.toFile().list())
                .filter(n -> n.contains("embedding")).toList(), "no staging folder left");
    }

    @Test
    void jobsRunOneAfterAnotherOnASessionTheyDidNotCreateAndLeaveItRunning() throws Exception {
        List<String> sets = new ArrayList<>();
        for (String set : EvalFixture.UNIT) {
            sets.addAll(List.of("--set", set));
        }
        List<String> knn = new ArrayList<>(List.of("--dataset", dataset, "--output", tmp.resolve("lib").toString()));
        knn.addAll(sets);
        siameseim.jobs.Jobs.run(spark, "knn", knn.toArray(String[]::new));
        List<String> embed = new ArrayList<>(List.of("--dataset", dataset, "--weights", "x", "--output",
                tmp.resolve("lib-embed").toString()));
        embed.addAll(sets);
        Exception e = assertThrows(java.io.IOException.class, () -> siameseim.jobs.Jobs.run(spark, "embed",
                embed.toArray(String[]::new)));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        embed.set(3, tmp.resolve("ckpt-for-lib.safetensors").toString());
        writeEncoder(tmp.resolve("ckpt-for-lib.safetensors"));
        siameseim.jobs.Jobs.run(spark, "embed", embed.toArray(String[]::new));
        assertTrue(Files.exists(tmp.resolve("lib/knn.json")));
        assertEquals(78, spark.read().parquet(tmp.resolve("lib-embed").toString()).count());
        assertTrue(!spark.sparkContext().isStopped(), "the caller's session is still running");
        assertThrows(siameseim.jobs.JobArgs.UsageError.class, () -> siameseim.jobs.Jobs.run(spark, "knn",
                "--dataset", dataset, "--master", "local[1]"));
    }

    private static void writeEncoder(Path f) throws Exception {
        PretrainConfig pc = ConfigLoader.loadPretrain(null, List.of(EvalFixture.UNIT));
        try (NDManager m = NDManager.newBaseManager();
                OutputStream out = Files.newOutputStream(f)) {
            VisionTransformer enc = new VisionTransformer(m, new SplittableRandom(5), pc.model(), "", null);
            Safetensors.write(out, siameseim.model.io.StateDict.of(enc, n -> true), Map.of());
        }
    }

    @Test
    void generatedImagesAreNumberedInSourceOrderWithoutSideFiles() throws Exception {
        Path cls = tmp.resolve("images/train/" + EvalFixture.NAMES[1]);
        try (var files = Files.list(cls)) {
            List<String> names = files.map(f -> f.getFileName().toString()).sorted().toList();
            List<String> expect = java.util.stream.IntStream.range(0, 20)
                    .mapToObj(i -> EvalFixture.NAMES[1] + "_" + i + ".JPEG").sorted().toList();
            assertEquals(expect, names);
        }
        assertEquals(List.of(), sideFiles(tmp.resolve("images")));
    }

    static List<Path> sideFiles(Path dir) throws java.io.IOException {
        try (var all = Files.walk(dir)) {
            return all.filter(f -> f.getFileName().toString().endsWith(".crc")).toList();
        }
    }

    static float[] flat(List<FeatureRow> rows) {
        int d = rows.get(0).feature().length;
        float[] f = new float[rows.size() * d];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(rows.get(i).feature(), 0, f, i * d, d);
        }
        return f;
    }

    static int[] labels(List<FeatureRow> rows) {
        return rows.stream().mapToInt(FeatureRow::label).toArray();
    }
}
