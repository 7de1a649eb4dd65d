package siameseim.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.testing.TensorBoardFiles;
import siameseim.config.PretrainConfig;
import siameseim.evaluate.KnnEvaluation;
import siameseim.testing.LocalSpark;
import siameseim.testing.MiniHdfs;
import siameseim.testing.PretrainFixture;
import siameseim.testing.S3Proxy;

/** The pretrain job with 2 replicas in local[2]; resume on HDFS and on S3. */
class DistributedPretrainingTest {
    static SparkSession spark;
    static String dataset;
    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() throws Exception {
        spark = LocalSpark.start();
        dataset = PretrainFixture.dataset(spark, tmp);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static DistributedTraining.Result run(String output, String... more) throws Exception {
        List<String> lines = new ArrayList<>();
        DistributedTraining.Result r = DistributedTraining.run(spark, PretrainFixture.config(dataset, output, more),
                null, lines::add);
        lines.forEach(System.out::println);
        return r;
    }

    /**
     * 6 steps straight equal 3 steps, stop, automatic resume, 3 more steps, bit for bit; and
     * before the resume, both runs' checkpoints of step 3 are the same bits (the data order,
     * masks and reductions do not depend on the run's length or timing).
     */
    static void resumeIsStepExact(String base) throws Exception {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        DistributedTraining.Result straight = run(base + "/straight", "train.max-steps=6");
        assertEquals(6, straight.rank0().steps());
        DistributedTraining.Result first = run(base + "/resumed", "train.max-steps=3");
        assertEquals(3, first.rank0().steps());
        assertSameBits(PretrainFixture.tensors(conf, base + "/straight/checkpoints/ckpt-0000000003.safetensors"),
                PretrainFixture.tensors(conf, first.rank0().checkpoint()), "step 3 on " + base);
        DistributedTraining.Result second = run(base + "/resumed", "train.max-steps=6");
        assertEquals(3, second.rank0().resumedFrom());
        assertEquals(6, second.rank0().steps());
        assertSameBits(PretrainFixture.tensors(conf, straight.rank0().checkpoint()),
                PretrainFixture.tensors(conf, second.rank0().checkpoint()), "step 6 after a resume on " + base);
    }

    static void assertSameBits(Map<String, float[]> expected, Map<String, float[]> actual, String what) {
        assertEquals(expected.keySet(), actual.keySet(), what);
        for (String k : expected.keySet()) {
            assertArrayEquals(expected.get(k), actual.get(k), what + ": " + k);
        }
    }

    @Test
    void anUnlabelledTreeAtAnyDepthIsPreparedAndPretrainedOn() throws Exception {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        org.apache.hadoop.fs.Path in = new org.apache.hadoop.fs.Path(tmp.resolve("unlabelled").toString());
        siameseim.testing.Fixtures.cleanTree(conf, in, 2, 8, 0); // train/<class>/*: depth 2, read as plain folders
        byte[] good = siameseim.testing.Fixtures.resource("good.jpg");
        siameseim.testing.Fixtures.write(conf, new org.apache.hadoop.fs.Path(in, "top.jpg"), good);
        siameseim.testing.Fixtures.write(conf, new org.apache.hadoop.fs.Path(in, "a/b/c/deep.jpg"), good);
        siameseim.testing.Fixtures.write(conf, new org.apache.hadoop.fs.Path(in, "a/.hidden.jpg"), good);
        String ds = tmp.resolve("unlabelled-ds").toString();
        siameseim.datasets.shards.Manifest m = siameseim.prepare.DatasetPreparation.run(spark,
                siameseim.config.PrepareConfig.from(siameseim.config.ConfigLoader.load(null, List.of(
                        "prepare.input=" + in, "prepare.output=" + ds, "prepare.layout=unlabelled")))).manifest();
        assertEquals(List.of(), m.classes());
        assertEquals(18, m.split("train").images(), "16 + top.jpg + a/b/c/deep.jpg; the hidden file left out");
        assertTrue(m.badFiles().isEmpty(), m.badFiles().toString());
        DistributedTraining.Result r = DistributedTraining.run(spark, PretrainFixture.config(ds,
                tmp.resolve("unlabelled-run").toString(), "train.max-steps=2"), null, System.out::println);
        assertEquals(2, r.rank0().steps());
    }

    @Test
    void theDoctorReportsEveryReplicaAndNamesTooFewSlots() throws Exception {
        List<String> report = new ArrayList<>();
        List<String> problems = siameseim.doctor.Doctor.run(spark, PretrainFixture.config(dataset,
                tmp.resolve("doctor").toString()), report::add);
        report.forEach(System.out::println);
        assertEquals(List.of(), problems);
        List<String> rows = report.stream().filter(l -> l.matches("\\| [01] \\| .*")).toList();
        assertEquals(2, rows.size(), report.toString());
        for (String row : rows) {
            String[] cells = row.split("\\|");
            assertTrue(Double.parseDouble(cells[10].trim()) > 0, "images/s of the timed fp32 steps: " + row);
            assertTrue(Double.parseDouble(cells[11].trim()) > 0, "images/s of the timed fp16-mixed steps: " + row);
            assertTrue(Double.parseDouble(cells[12].trim()) > 0, "all-reduce bus bandwidth: " + row);
            assertTrue(cells[5].contains("/"), "where libtorch was loaded from: " + row);
        }
        assertEquals(2, report.stream().filter(l -> l.matches("\\[doctor\\] rank [01]: precision fp32 \\(train.precision"
                + " = auto on a CPU\\)")).count(), report.toString());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> siameseim.doctor.Doctor.run(spark,
                PretrainFixture.config(dataset, tmp.resolve("doctor8").toString(), "distributed.replicas=4"),
                l -> { }));
        assertTrue(e.getMessage().contains("doctor needs 4 task slots"), e.getMessage());
    }

    @Test
    void twoReplicasInFp16MixedPrecisionStayIdenticalAndCheckpointTheLossScale() throws Exception {
        List<String> lines = new ArrayList<>();
        DistributedTraining.Result r = DistributedTraining.run(spark, PretrainFixture.config(dataset,
                tmp.resolve("fp16").toString(), "train.max-steps=3", "train.precision=fp16-mixed"), null, lines::add);
        lines.forEach(System.out::println);
        assertEquals(r.replicas().get(0).parameterChecksum(), r.replicas().get(1).parameterChecksum());
        assertTrue(lines.contains("[pretrain] replica 0: precision fp16-mixed (train.precision = fp16-mixed; a CPU has"
                + " no fp16 units: slower than fp32)"), lines.toString());
        org.apache.hadoop.fs.Path ckpt = new org.apache.hadoop.fs.Path(r.rank0().checkpoint());
        try (java.io.InputStream in = ckpt.getFileSystem(spark.sparkContext().hadoopConfiguration()).open(ckpt)) {
            Map<String, String> meta = siameseim.model.io.Safetensors.readHeader(in, ckpt.toString()).metadata();
            assertTrue(Double.parseDouble(meta.get("progress.loss_scale")) > 0, meta.toString());
        }
    }

    @Test
    void twoReplicasTrainCheckpointAndStayIdentical() throws Exception {
        DistributedTraining.Result r = run(tmp.resolve("run").toString(), "train.max-steps=4",
                "eval.knn.every-steps=2", "eval.knn.k=5", "train.pin-threads=confine");
        assertEquals(2, r.replicas().size());
        assertEquals(r.replicas().get(0).parameterChecksum(), r.replicas().get(1).parameterChecksum());
        if (siameseim.host.CpuAffinity.ofCurrentThread().cardinality() >= 2) {
            // both replicas in this JVM: confine falls back to auto, one training thread per CPU,
            // in rank order
            for (int rank = 0; rank < 2; rank++) {
                String note = r.replicas().get(rank).placement();
                assertTrue(note.startsWith("training threads on CPU "
                        + siameseim.datasets.testing.Cpus.nth(siameseim.host.CpuAffinity.ofCurrentThread(), rank)), note);
                assertTrue(note.endsWith("; not confined: 2 replicas share this executor process"), note);
            }
        }
        assertTrue(r.rank0().checkpoint().endsWith("ckpt-0000000004.safetensors"), r.rank0().checkpoint());
        assertTrue(java.nio.file.Files.exists(tmp.resolve("run/checkpoints/ckpt-0000000003.safetensors")));
        assertTrue(java.nio.file.Files.readString(tmp.resolve("run/checkpoints/latest")).trim()
                .equals("ckpt-0000000004.safetensors"));
        assertTrue(java.nio.file.Files.exists(tmp.resolve("run/metrics/steps-0000000000-0000000003.jsonl")));
        assertTrue(java.nio.file.Files.exists(tmp.resolve("run/config.json")));

        // the kNN monitor ran at steps 2 and 4 and agrees with the knn job on the final checkpoint
        assertEquals(List.of(2L, 4L), r.evaluations().stream().map(siameseim.events.Event.Evaluation::step).toList());
        assertEquals(3, r.evaluations().get(1).images(), "the whole (3-image) held-out split");
        assertTrue(java.nio.file.Files.readString(tmp.resolve("run/metrics/steps-0000000003-0000000004.jsonl"))
                .contains("\"type\":\"knn\""));
        PretrainConfig pc = PretrainFixture.config(dataset, tmp.resolve("run").toString(), "eval.knn.k=5",
                "eval.weights=" + r.rank0().checkpoint());
        KnnEvaluation.Result job = KnnEvaluation.run(spark, pc.eval());
        assertEquals(job.top1(), r.evaluations().get(1).top1(), 1e-9);

        // TensorBoard event files (one per checkpoint interval) hold the losses of the metrics lines
        java.util.List<TensorBoardFiles.Event> events = new java.util.ArrayList<>();
        try (var files = java.nio.file.Files.list(tmp.resolve("run/tensorboard"))) {
            for (Path f : files.sorted().toList()) {
                assertTrue(f.getFileName().toString().contains("tfevents"), f.toString());
                events.addAll(TensorBoardFiles.read(java.nio.file.Files.readAllBytes(f)));
            }
        }
        String metrics = java.nio.file.Files.readString(tmp.resolve("run/metrics/steps-0000000000-0000000003.jsonl"));
        double loss1 = com.google.gson.JsonParser.parseString(metrics.lines().findFirst().orElseThrow())
                .getAsJsonObject().get("loss").getAsDouble();
        assertEquals((float) loss1, events.stream().filter(e -> "train/loss".equals(e.tag()) && e.step() == 1)
                .findFirst().orElseThrow().value());
        assertEquals(4, events.stream().filter(e -> "train/loss".equals(e.tag())).count());
        assertEquals(2, events.stream().filter(e -> "eval/knn_top1".equals(e.tag())).count());
        assertTrue(java.nio.file.Files.size(tmp.resolve("run/plots/loss.png")) > 1000);
        assertTrue(java.nio.file.Files.exists(tmp.resolve("run/plots/eval.png")));
    }

    @Test
    void resumeOnHdfs() throws Exception {
        try (MiniHdfs hdfs = new MiniHdfs(tmp.resolve("hdfs").toFile())) {
            resumeIsStepExact(hdfs.uri() + "/runs");
        }
    }

    @Test
    void resumeOnS3() throws Exception {
        java.nio.file.Files.createDirectories(tmp.resolve("s3"));
        try (S3Proxy s3 = new S3Proxy(tmp.resolve("s3"), "runs")) {
            s3.configure(spark.sparkContext().hadoopConfiguration());
            resumeIsStepExact("s3a://runs/siameseim");
        }
    }

    @Test
    void tooFewSlotsFailsWithTheCount() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> run(tmp.resolve("big").toString(), "distributed.replicas=4"));
        assertTrue(e.getMessage().contains("needs 4 task slots"), e.getMessage());
        // Spark's slot check refused the stage up front (no replica started and timed out)
        String cause = String.valueOf(e.getCause());
        assertTrue(cause.contains("BarrierJobSlotsNumberCheckFailed") || cause.contains("requires more slots"), cause);
    }
}
