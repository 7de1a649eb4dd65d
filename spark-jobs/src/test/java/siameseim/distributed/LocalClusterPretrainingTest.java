package siameseim.distributed;

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

/** Two executor JVMs (local-cluster[2,1,1024]): replicas in separate processes, collective over TCP. */
class LocalClusterPretrainingTest {

    static SparkSession localCluster() throws Exception {
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
                .set("spark.scheduler.barrier.maxConcurrentTasksCheck.maxFailures", "1")
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
                    PretrainFixture.config(dataset, tmp.resolve("run").toString(), "train.max-steps=4"), null,
                    lines::add);
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
        } finally {
            spark.stop();
        }
    }
}
