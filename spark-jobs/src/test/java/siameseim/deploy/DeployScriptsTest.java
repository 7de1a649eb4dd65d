package siameseim.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.spark.deploy.SparkSubmitArguments;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.jdk.javaapi.CollectionConverters;

/**
 * deploy/: the GPU discovery script's output parsed by Spark's own parser, and the commands of
 * the submit scripts parsed by Spark's own spark-submit argument parser.
 */
class DeployScriptsTest {
    static final Path ROOT = StandaloneClusterTest.ROOT;

    static String run(Map<String, String> env, String... cmd) throws Exception {
        return run(0, env, cmd);
    }

    /** The output of {@code cmd}, which must end with {@code status}. */
    static String run(int status, Map<String, String> env, String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(status, p.exitValue(), out);
        return out;
    }

    static ResourceInformation discover(Map<String, String> env) throws Exception {
        String out = run(env, "bash", ROOT.resolve("deploy/gpu/discover-gpus.sh").toString());
        return ResourceInformation.parseJson(out.strip());
    }

    @Test
    void gpuDiscoveryPrintsWhatSparkParses(@TempDir Path tmp) throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Path smi = bin.resolve("nvidia-smi");
        Files.writeString(smi, "#!/bin/sh\nprintf '0\\n1\\n2\\n3\\n'\n");
        Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
        String path = bin + ":/usr/bin:/bin";

        ResourceInformation all = discover(Map.of("PATH", path));
        assertEquals("gpu", all.name());
        assertEquals(List.of("0", "1", "2", "3"), List.of(all.addresses()));
        // a container limited to two GPUs sees them as CUDA devices 0 and 1
        ResourceInformation isolated = discover(Map.of("PATH", path, "CUDA_VISIBLE_DEVICES", "2,3"));
        assertEquals(List.of("0", "1"), List.of(isolated.addresses()));
        // no NVIDIA tools: no GPUs
        assertEquals(0, discover(Map.of("PATH", "/usr/bin:/bin")).addresses().length);
    }

    /** The submit script's command (DRY_RUN), parsed as spark-submit parses it. */
    static SparkSubmitArguments parse(String script, Map<String, String> env, String... job) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", ROOT.resolve("deploy/submit/" + script).toString()));
        cmd.addAll(List.of(job));
        java.util.HashMap<String, String> e = new java.util.HashMap<>(env);
        e.put("DRY_RUN", "1");
        e.put("SPARK_HOME", "/opt/spark");
        e.put("APP_JAR", "/opt/siameseim/app.jar");
        List<String> args = new ArrayList<>(run(e, cmd.toArray(String[]::new)).lines().toList());
        assertEquals("/opt/spark/bin/spark-submit", args.remove(0));
        java.util.HashMap<String, String> sparkEnv = new java.util.HashMap<>(env);
        sparkEnv.put("SPARK_CONF_DIR", "/nonexistent");
        return new SparkSubmitArguments(CollectionConverters.asScala(args).toSeq(),
                scala.collection.immutable.Map.from(CollectionConverters.asScala(sparkEnv)));
    }

    /** LIBTORCH's version and flavor name a JNI library the jar carries (pytorch-jni of the pom's line). */
    static void assertHandInstalledLibtorchMatchesTheJni(SparkSubmitArguments a) throws Exception {
        Properties jni = new Properties();
        try (InputStream in = DeployScriptsTest.class.getResourceAsStream("/jnilib/pytorch.properties")) {
            jni.load(in);
        }
        String version = conf(a, "spark.executorEnv.PYTORCH_VERSION");
        assertTrue(jni.getProperty("jni_version").startsWith(version + "-"), version + " vs the JNI " + jni);
        String flavor = conf(a, "spark.executorEnv.PYTORCH_FLAVOR");
        assertNotNull(DeployScriptsTest.class.getResource("/jnilib/linux-x86_64/" + flavor + "/libdjl_torch.so"),
                "pytorch-jni has no JNI library for " + flavor);
        assertEquals("/opt/libtorch/lib", conf(a, "spark.executorEnv.PYTORCH_LIBRARY_PATH"));
    }

    static String conf(SparkSubmitArguments a, String key) {
        return a.sparkProperties().get(key).getOrElse(() -> null);
    }

    @Test
    void yarnGpuSubmission() throws Exception {
        SparkSubmitArguments a = parse("yarn.sh", Map.of("HADOOP_CONF_DIR", "/etc/hadoop", "EXECUTORS", "4",
                "GPUS_PER_EXECUTOR", "8", "CORES_PER_REPLICA", "6", "LIBTORCH", "/opt/libtorch/lib"),
                "pretrain", "--conf", "pretrain-vit-b16.conf", "--dataset", "hdfs:///imagenet", "--output", "hdfs:///r");
        assertEquals("yarn", a.master());
        assertEquals("cluster", a.deployMode());
        assertEquals("siameseim.jobs.Main", a.mainClass());
        assertEquals("file:/opt/siameseim/app.jar", a.primaryResource());
        assertEquals("48", a.executorCores(), "8 replicas x 6 cores");
        assertEquals("4", a.numExecutors());
        assertEquals("8", conf(a, "spark.executor.resource.gpu.amount"));
        assertEquals("1", conf(a, "spark.task.resource.gpu.amount"));
        assertEquals("6", conf(a, "spark.task.cpus"));
        assertEquals("./discover-gpus.sh", conf(a, "spark.executor.resource.gpu.discoveryScript"));
        assertTrue(a.files().endsWith("deploy/gpu/discover-gpus.sh"), a.files());
        assertHandInstalledLibtorchMatchesTheJni(a);
        assertEquals("false", conf(a, "spark.dynamicAllocation.enabled"));
        assertEquals("true", conf(a, "spark.authenticate"), "YARN generates the application's secret");
        assertEquals("true", conf(a, "spark.network.crypto.enabled"));
        assertTrue(conf(a, "spark.executor.extraJavaOptions").contains("-Dai.djl.offline=true"));
        List<String> jobArgs = CollectionConverters.asJava(a.childArgs());
        assertEquals(List.of("pretrain", "--conf", "pretrain-vit-b16.conf", "--dataset", "hdfs:///imagenet", "--output",
                "hdfs:///r", "--set", "distributed.replicas=32"), jobArgs);
    }

    @Test
    void theKubernetesImageDefaultsToTheSparkAndScalaTheJarIsBuiltFor() throws Exception {
        String dockerfile = Files.readString(ROOT.resolve("deploy/kubernetes/Dockerfile"));
        String scalaVersion = scala.util.Properties.versionNumberString();
        String expect = "ARG SPARK_IMAGE=apache/spark:" + org.apache.spark.package$.MODULE$.SPARK_VERSION() + "-scala"
                + scalaVersion.substring(0, scalaVersion.lastIndexOf('.')) + "-java17-ubuntu";
        assertTrue(dockerfile.contains(expect + "\n"), "the Dockerfile should say " + expect);
    }

    @Test
    void gpuExecutorsGetTheCudaNativesJar() throws Exception {
        String natives = "hdfs:///apps/siameseim/pytorch-native-cu124-2.5.1-linux-x86_64.jar";
        SparkSubmitArguments a = parse("yarn.sh", Map.of("HADOOP_CONF_DIR", "/etc/hadoop", "GPUS_PER_EXECUTOR", "4",
                "CUDA_NATIVES", natives), "doctor");
        assertEquals(natives, a.jars(), "a jar of its own: DJL finds natives by their properties file");
        assertEquals(null, conf(a, "spark.executorEnv.PYTORCH_LIBRARY_PATH"));

        String none = run(1, Map.of("DRY_RUN", "1", "SPARK_HOME", "/opt/spark", "APP_JAR", "/a.jar", "HADOOP_CONF_DIR",
                "/etc/hadoop", "GPUS_PER_EXECUTOR", "4", "CUDA_NATIVES", ""), "bash",
                ROOT.resolve("deploy/submit/yarn.sh").toString(), "doctor");
        assertTrue(none.contains("GPU executors need the CUDA natives") && none.contains("-Papp-jar,cuda"), none);

        SparkSubmitArguments cpu = parse("yarn.sh", Map.of("HADOOP_CONF_DIR", "/etc/hadoop", "CUDA_NATIVES", natives),
                "doctor");
        assertEquals(null, cpu.jars(), "CPU executors do without the 2.4 GB jar");

        SparkSubmitArguments k = parse("kubernetes.sh", Map.of("K8S_API", "https://k8s:6443", "IMAGE", "r/s:1",
                "GPUS_PER_EXECUTOR", "1"), "doctor");
        assertEquals("/opt/siameseim/natives/*", conf(k, "spark.executor.extraClassPath"), "the GPU image's jar");
        assertTrue(Files.readString(ROOT.resolve("deploy/kubernetes/Dockerfile.gpu"))
                .contains("COPY spark-jobs/target/natives/ /opt/siameseim/natives/"));
    }

    @Test
    void standaloneAndKubernetesSubmissions() throws Exception {
        Path conf = Files.createTempDirectory("spark-conf");
        String noSecret = run(1, Map.of("DRY_RUN", "1", "SPARK_HOME", "/opt/spark", "APP_JAR", "/a.jar", "SPARK_CONF_DIR",
                conf.toString(), "MASTER", "spark://m:7077"), "bash", ROOT.resolve("deploy/submit/standalone.sh")
                .toString(), "knn");
        assertTrue(noSecret.contains("needs the cluster's shared secret as spark.authenticate.secret"), noSecret);
        Files.writeString(conf.resolve("spark-defaults.conf"), "spark.authenticate.secret  s3cr3t\n");
        SparkSubmitArguments s = parse("standalone.sh", Map.of("MASTER", "spark://m:7077", "EXECUTORS", "3",
                "CORES_PER_REPLICA", "4", "SPARK_CONF_DIR", conf.toString()), "linear-probe", "--dataset", "/d",
                "--weights", "/w");
        assertEquals("true", conf(s, "spark.authenticate"));
        assertEquals("true", conf(s, "spark.network.crypto.enabled"));
        assertEquals("spark://m:7077", s.master());
        assertEquals("12", s.totalExecutorCores());
        assertEquals("4", s.executorCores());
        assertEquals(List.of("linear-probe", "--dataset", "/d", "--weights", "/w", "--replicas", "3"),
                CollectionConverters.asJava(s.childArgs()));

        SparkSubmitArguments k = parse("kubernetes.sh", Map.of("K8S_API", "https://k8s:6443", "IMAGE",
                "registry/siameseim:1", "GPUS_PER_EXECUTOR", "2"), "pretrain", "--set", "distributed.replicas=3");
        assertEquals("k8s://https://k8s:6443", k.master());
        assertEquals("registry/siameseim:1", conf(k, "spark.kubernetes.container.image"));
        assertEquals("nvidia.com", conf(k, "spark.executor.resource.gpu.vendor"));
        assertEquals("true", conf(k, "spark.authenticate"), "Kubernetes generates the application's secret");
        assertEquals(null, conf(k, "spark.executorEnv.PYTORCH_LIBRARY_PATH"), "the -Pcuda jar carries its natives");
        assertEquals(List.of("pretrain", "--set", "distributed.replicas=3"), CollectionConverters.asJava(k.childArgs()),
                "an explicit replica count is kept");
    }
}
