package siameseim.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.config.ConfigLoader;
import siameseim.config.PipelineConfig;
import siameseim.testing.Fixtures;
import siameseim.testing.LocalSpark;
import siameseim.testing.PretrainFixture;

/**
 * The scheduled pipeline, run as cron would run it: a failed run, a run that continues, a run
 * that does nothing (no Spark job, no file touched), a config change that reruns one stage, a
 * lost output that is rebuilt, and a lock held by another run.
 */
class PipelineTest {
    static SparkSession spark;
    static final AtomicInteger JOBS = new AtomicInteger();
    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() throws Exception {
        spark = LocalSpark.start();
        spark.sparkContext().addSparkListener(new SparkListener() {
            @Override
            public void onJobStart(SparkListenerJobStart jobStart) {
                JOBS.incrementAndGet();
            }
        });
        Fixtures.cleanTree(spark.sparkContext().hadoopConfiguration(),
                new org.apache.hadoop.fs.Path(tmp.resolve("raw").toString()), 3, 16, 2);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static PipelineConfig config(String output, String... more) {
        List<String> sets = new ArrayList<>(PretrainFixture.MODEL);
        sets.addAll(List.of("pipeline.input=" + tmp.resolve("raw"), "pipeline.output=" + output, "prepare.tasks=2",
                "train.max-steps=4", "checkpoint.every-steps=2", "eval.batch-size=16", "eval.linear.epochs=2",
                "eval.linear.batch-size=16", "eval.linear.warmup-epochs=0", "eval.knn.k=3"));
        sets.addAll(List.of(more));
        return PipelineConfig.from(ConfigLoader.load("pipeline-demo.conf", sets));
    }

    static Pipeline.Report run(PipelineConfig c, List<String> lines) throws Exception {
        Pipeline.Report r = Pipeline.run(spark, c, lines::add);
        spark.sparkContext().listenerBus().waitUntilEmpty();
        return r;
    }

    static List<String> ran(Pipeline.Report r) {
        return r.stages().stream().filter(Pipeline.StageRun::ran).map(Pipeline.StageRun::stage).toList();
    }

    /** Every file under a folder with its modification time and size. */
    static Map<String, String> files(Path dir) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                out.put(dir.relativize(p).toString(), Files.getLastModifiedTime(p) + " " + Files.size(p));
            }
        }
        return out;
    }

    @Test
    void aFailedRunContinuesAndARerunAfterSuccessDoesNothing() throws Exception {
        String out = tmp.resolve("pipe").toString();
        List<String> lines = new ArrayList<>();

        // the evaluations read a split the dataset lacks: prepare and pretrain finish, knn fails
        Exception e = assertThrows(Exception.class, () -> run(config(out, "eval.test-split=holdout"), lines));
        assertTrue(String.valueOf(e.getMessage()).contains("holdout"), e.toString());
        assertTrue(Files.exists(Path.of(out, Pipeline.STATE)));
        assertTrue(!Files.exists(Path.of(out, Pipeline.LOCK)), "the lock is released after a failure");

        // the fixed run continues: prepare and pretrain are up to date
        lines.clear();
        Pipeline.Report second = run(config(out), lines);
        assertEquals(List.of("knn", "linear-probe", "export"), ran(second), String.join("\n", lines));
        assertTrue(Files.exists(Path.of(out, "eval/knn.json")));
        assertTrue(Files.exists(Path.of(out, "eval/linear-probe.json")));
        assertTrue(Files.exists(Path.of(out, "export/encoder.safetensors")));
        assertTrue(Files.exists(Path.of(out, "pretrain/checkpoints/ckpt-0000000004.safetensors")));

        // after a success: no stage, no Spark job, no file written
        Map<String, String> before = files(Path.of(out));
        int jobs = JOBS.get();
        lines.clear();
        Pipeline.Report third = run(config(out), lines);
        assertEquals(List.of(), ran(third), String.join("\n", lines));
        assertEquals(jobs, JOBS.get(), "no Spark job");
        assertEquals(before, files(Path.of(out)), "no file written");
        assertTrue(lines.get(lines.size() - 1).startsWith("[pipeline] nothing to do"), lines.toString());

        // settings that change only speed or logging rerun nothing; an evaluation setting reruns that stage
        lines.clear();
        assertEquals(List.of(), ran(run(config(out, "train.threads=2", "train.log-every-seconds=1"), lines)));
        assertEquals(List.of("knn"), ran(run(config(out, "eval.knn.k=5"), lines)));

        // an output deleted by hand is rebuilt
        Files.delete(Path.of(out, "export/encoder.safetensors"));
        assertEquals(List.of("export"), ran(run(config(out, "eval.knn.k=5"), lines)));
    }

    @Test
    void aLockHeldByAnotherRunStopsTheRun() throws Exception {
        Path out = tmp.resolve("locked");
        Files.createDirectories(out);
        Files.writeString(out.resolve(Pipeline.LOCK), "{\"host\":\"elsewhere\",\"pid\":1,\"since\":\"now\"}\n");
        Exception e = assertThrows(java.io.IOException.class, () -> run(config(out.toString()), new ArrayList<>()));
        assertTrue(e.getMessage().contains("another pipeline run holds") && e.getMessage().contains("elsewhere"),
                e.getMessage());

        // a lock left by a process of this host that has exited is taken over
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Files.writeString(out.resolve(Pipeline.LOCK), "{\"host\":\"" + java.net.InetAddress.getLocalHost().getHostName()
                + "\",\"pid\":" + gone.pid() + ",\"since\":\"now\"}\n");
        List<String> lines = new ArrayList<>();
        Pipeline.Report r = run(config(out.toString(), "pipeline.stages=[prepare]"), lines);
        assertEquals(List.of("prepare"), ran(r), String.join("\n", lines));
    }

    @Test
    void badStagesAreNamed() {
        Exception e = assertThrows(siameseim.config.ConfigError.class,
                () -> config(tmp.resolve("x").toString(), "pipeline.stages=[prepare, pretrian]"));
        assertTrue(e.getMessage().contains("pipeline.stages") && e.getMessage().contains("pretrian"), e.getMessage());
    }
}
