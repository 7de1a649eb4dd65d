package siameseim.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.apache.hadoop.conf.Configuration;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.testing.PretrainFixture;

/**
 * Two executor JVMs (local-cluster[2,1,1024]): replicas in separate processes, their collective
 * over shared memory (one host), with TCP as the liveness signal.
 */
class LocalClusterPretrainingTest {

    static SparkSession localCluster() throws Exception {
        return localCluster(1);
    }

    /** @param barrierChecks how many 1-second checks a barrier stage waits for free slots */
    static SparkSession localCluster(int barrierChecks) throws Exception {
        String home = System.getenv("SPARK_HOME");
        Files.createDirectories(Path.of(home, "jars"));
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        SparkConf conf = new SparkConf()
                .setMaster("local-cluster[2,1,1024]")
                .setAppName("siameseim-local-cluster-test")
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1")
                .set("spark.ui.enabled", "false")
                .set("spark.executorEnv.SPARK_SCALA_VERSION", "2.13")
                .set("spark.executorEnv.SPARK_LOCAL_IP", "127.0.0.1")
                .set("spark.executor.extraClassPath", cp)
                .set("spark.executor.extraJavaOptions", "-Dai.djl.offline=true -DOPT_OUT_TRACKING=true"
                        + " --add-modules=jdk.incubator.vector")
                .set("spark.cores.max", "2")
                .set("spark.scheduler.minRegisteredResourcesRatio", "1.0")
                .set("spark.scheduler.maxRegisteredResourcesWaitingTime", "60s")
                .set("spark.scheduler.barrier.maxConcurrentTasksCheck.maxFailures", Integer.toString(barrierChecks))
                .set("spark.scheduler.barrier.maxConcurrentTasksCheck.interval", "1s");
        return SparkSession.builder().config(conf).getOrCreate();
    }

    @Test
    void replicasRunInTwoExecutorProcesses(@TempDir Path tmp) throws Exception {
        SparkSession spark = localCluster();
        try {
            String dataset = PretrainFixture.dataset(spark, tmp);
            List<String> lines = new ArrayList<>();
            DistributedTraining.Result r = DistributedTraining.run(spark,
                    PretrainFixture.config(dataset, tmp.resolve("run").toString(), "train.max-steps=4",
                            "train.pin-threads=confine"), null, lines::add);
            lines.forEach(System.out::println);
            assertEquals(2, r.replicas().size());
            long driver = ProcessHandle.current().pid();
            long p0 = r.replicas().get(0).pid();
            long p1 = r.replicas().get(1).pid();
            assertNotEquals(p0, p1, "two executor JVMs");
            assertTrue(p0 != driver && p1 != driver, "not in the driver");
            assertEquals(r.replicas().get(0).parameterChecksum(), r.replicas().get(1).parameterChecksum());
            assertTrue(Files.exists(tmp.resolve("run/checkpoints/ckpt-0000000004.safetensors")));
            assertTrue(lines.stream().anyMatch(l -> l.contains("pre-flight")), lines.toString());
            if (Runtime.getRuntime().availableProcessors() >= 2) {
                // one replica per executor JVM: each confines its whole process to its own CPU
                for (siameseim.events.Summary s : r.replicas()) {
                    assertTrue(s.placement().startsWith("training threads and every other thread of the executor on"
                            + " CPU "), s.placement());
                }
                assertNotEquals(r.replicas().get(0).placement().split(" ")[11],
                        r.replicas().get(1).placement().split(" ")[11], "two CPUs");
            }
            // the doctor on the same two executor processes
            List<String> report = new ArrayList<>();
            List<String> problems = siameseim.doctor.Doctor.run(spark, PretrainFixture.config(dataset,
                    tmp.resolve("doctor").toString()), report::add);
            report.forEach(System.out::println);
            assertEquals(List.of(), problems);
            assertEquals(2, report.stream().filter(l -> l.matches("\\| [01] \\| 127\\.0\\.0\\.1 .*")).count(),
                    report.toString());
        } finally {
            spark.stop();
        }
    }

    /** The executor JVMs of a local-cluster application: child processes of this JVM. */
    static List<ProcessHandle> executors() {
        return ProcessHandle.current().descendants().filter(p -> {
            try {
                // /proc/PID/cmdline: ProcessHandle.Info drops the arguments of long command lines
                return Files.readString(Path.of("/proc/" + p.pid() + "/cmdline")).contains("CoarseGrainedExecutorBackend");
            } catch (java.io.IOException e) {
                return false;
            }
        }).toList();
    }

    /**
     * The fault path of a run seeded with {@code --resume}: it starts from the other run's
     * checkpoint of step 6, loses an executor after writing its own checkpoint of step 12, and
     * the retry resumes from that one (not from the seed again), ending bit for bit where the
     * uninterrupted run does.
     */
    @Test
    void aKilledExecutorIsReplacedAndTheRunResumesStepExactly(@TempDir Path tmp) throws Exception {
        SparkSession spark = localCluster(120);
        try {
            String dataset = PretrainFixture.dataset(spark, tmp);
            String[] sets = {"optim.epochs=5", "checkpoint.every-steps=6", "checkpoint.keep=10"};
            DistributedTraining.Result straight = DistributedTraining.run(spark,
                    PretrainFixture.config(dataset, tmp.resolve("straight").toString(), sets), null, l -> { });
            assertEquals(30, straight.rank0().steps());

            // SIGKILL one executor JVM as soon as the checkpoint of step 12 is reported
            List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
            java.util.concurrent.atomic.AtomicLong killed = new java.util.concurrent.atomic.AtomicLong(-1);
            long start = System.nanoTime();
            java.util.concurrent.atomic.AtomicLong killedAt = new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.atomic.AtomicLong resumedAfter = new java.util.concurrent.atomic.AtomicLong();
            String seed = tmp.resolve("straight/checkpoints/ckpt-0000000006.safetensors").toString();
            DistributedTraining.Result r = DistributedTraining.run(spark,
                    PretrainFixture.config(dataset, tmp.resolve("killed").toString(), sets), seed, l -> {
                        lines.add(l);
                        if (l.contains("resumed at step") && killed.get() > 0 && resumedAfter.get() == 0) {
                            resumedAfter.set(System.nanoTime() - killedAt.get());
                        }
                        if (l.contains("checkpoint at step 12") && killed.get() < 0) {
                            ProcessHandle victim = executors().get(0);
                            killed.set(victim.pid());
                            killedAt.set(System.nanoTime());
                            victim.destroyForcibly();
                        }
                    });
            double seconds = (System.nanoTime() - killedAt.get()) / 1e9;
            lines.forEach(System.out::println);
            System.out.printf("killed executor pid %d; training resumed %.1f s later, the run finished %.1f s later"
                    + " (whole run %.1f s, uninterrupted %.1f s)%n", killed.get(), resumedAfter.get() / 1e9, seconds,
                    (System.nanoTime() - start) / 1e9, straight.seconds());
            assertTrue(killed.get() > 0, "an executor was killed");
            assertEquals(30, r.rank0().steps());
            assertTrue(r.replicas().stream().noneMatch(s -> s.pid() == killed.get()), "a new executor took its place");
            String log = String.join("\n", lines);
            assertTrue(log.matches("(?s).*executor \\d+ lost at step \\d+ .*resume from the checkpoint of step 12.*"),
                    log);
            assertTrue(log.contains("barrier stage") && log.contains("attempt 2"), log);
            assertTrue(log.contains("resumed at step 6 from file:" + seed + " ("), log);
            assertTrue(log.contains("resumed at step 12 from file:" + tmp.resolve("killed/checkpoints/ckpt-0000000012"
                    + ".safetensors") + " (the run's own newest good checkpoint; --resume file:" + seed + " ignored"),
                    log);

            // the same final parameters, EMA target, BatchNorm buffers and AdamW moments as the run without a fault
            assertEquals(straight.rank0().parameterChecksum(), r.rank0().parameterChecksum());
            Map<String, float[]> a = PretrainFixture.tensors(new Configuration(),
                    tmp.resolve("straight/checkpoints/ckpt-0000000030.safetensors").toString());
            Map<String, float[]> b = PretrainFixture.tensors(new Configuration(),
                    tmp.resolve("killed/checkpoints/ckpt-0000000030.safetensors").toString());
            assertEquals(a.keySet(), b.keySet());
            for (String k : a.keySet()) {
                assertArrayEquals(a.get(k), b.get(k), k);
            }
        } finally {
            spark.stop();
        }
    }
}
