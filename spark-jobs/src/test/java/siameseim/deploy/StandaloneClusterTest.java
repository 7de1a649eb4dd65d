package siameseim.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.testing.LocalSpark;
import siameseim.testing.PretrainFixture;

/**
 * A real standalone cluster: deploy/standalone/start-cluster.sh starts a Master and 2 Workers as
 * separate JVMs, the pretrain job is submitted through SparkSubmit in client mode (a separate
 * driver JVM, as bin/siameseim does), the replicas run in two executor processes, and
 * stop-cluster.sh stops everything by PID.
 */
class StandaloneClusterTest {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    static String classpath() {
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }

    /** This JVM's module and DJL flags, for the child JVMs. */
    static List<String> jvmFlags() {
        List<String> out = new ArrayList<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-") || a.startsWith("-Dai.djl") || a.startsWith("-DOPT_OUT")
                    || a.startsWith("-XX:+IgnoreUnrecognized") || a.startsWith("-Djdk.reflect")
                    || a.startsWith("-Dio.netty")) {
                out.add(a);
            }
        }
        return out;
    }

    static Process start(List<String> cmd, Path log) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SIAMESEIM_CLASSPATH", classpath());
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        return pb.start();
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void pretrainSubmittedToAStandaloneCluster(@TempDir Path tmp) throws Exception {
        SparkSession local = LocalSpark.start();
        String dataset;
        try {
            dataset = PretrainFixture.dataset(local, tmp);
        } finally {
            local.stop();
        }
        Path dir = tmp.resolve("cluster");
        int port = freePort();
        Process up = start(List.of("bash", ROOT.resolve("deploy/standalone/start-cluster.sh").toString(), "--workers",
                "2", "--cores", "1", "--memory", "1500m", "--dir", dir.toString(), "--port", Integer.toString(port)),
                tmp.resolve("start.log"));
        assertTrue(up.waitFor(120, TimeUnit.SECONDS), "start-cluster.sh finished");
        String startLog = Files.readString(tmp.resolve("start.log"));
        List<Long> pids = new ArrayList<>();
        try {
            assertEquals(0, up.exitValue(), startLog);
            String master = "spark://127.0.0.1:" + port;
            assertTrue(startLog.strip().endsWith(master), startLog);
            for (String p : Files.readAllLines(dir.resolve("pids"))) {
                pids.add(Long.parseLong(p.strip()));
            }
            assertEquals(3, pids.size(), "a master and two workers");

            String output = tmp.resolve("run").toString();
            List<String> cmd = new ArrayList<>(List.of(System.getProperty("java.home") + "/bin/java", "-Xmx1g"));
            cmd.addAll(jvmFlags());
            cmd.addAll(List.of("-Dsiameseim.shareDriverClasspath=true", "-cp", classpath(),
                    "org.apache.spark.deploy.SparkSubmit", "--master", master, "--conf", "spark.cores.max=2",
                    "--conf", "spark.executor.memory=1g", "--class", "siameseim.jobs.Main", "spark-internal",
                    "pretrain", "--dataset", dataset, "--output", output));
            List<String> sets = new ArrayList<>(siameseim.testing.PretrainFixture.MODEL);
            sets.addAll(List.of("checkpoint.every-steps=2", "train.max-steps=4"));
            for (String set : sets) {
                cmd.add("--set");
                cmd.add(set);
            }
            Process job = start(cmd, tmp.resolve("job.log"));
            boolean finished = job.waitFor(300, TimeUnit.SECONDS);
            String jobLog = Files.readString(tmp.resolve("job.log"), StandardCharsets.UTF_8);
            System.out.println(jobLog.lines().filter(l -> l.startsWith("[pretrain]")).reduce("", (a, b) -> a + b + "\n"));
            assertTrue(finished, "the job finished in 5 minutes:\n" + jobLog);
            assertEquals(0, job.exitValue(), jobLog);
            assertTrue(Files.exists(Path.of(output, "checkpoints/ckpt-0000000004.safetensors")), jobLog);
            try (Stream<Path> metrics = Files.list(Path.of(output, "metrics"))) {
                assertTrue(metrics.anyMatch(p -> p.getFileName().toString().endsWith(".jsonl")));
            }
            // each worker started one executor process for the application
            for (int w = 1; w <= 2; w++) {
                try (Stream<Path> apps = Files.list(dir.resolve("work/worker-" + w))) {
                    List<Path> a = apps.toList();
                    assertEquals(1, a.size(), "one application on worker " + w);
                    assertTrue(new File(a.get(0).toFile(), "0/stderr").exists() || new File(a.get(0).toFile(),
                            "1/stderr").exists(), "an executor ran on worker " + w);
                }
            }
        } finally {
            Process down = start(List.of("bash", ROOT.resolve("deploy/standalone/stop-cluster.sh").toString(), "--dir",
                    dir.toString()), tmp.resolve("stop.log"));
            down.waitFor(60, TimeUnit.SECONDS);
        }
        for (long pid : pids) {
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "pid " + pid + " stopped");
        }
    }
}
