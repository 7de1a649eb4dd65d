package siameseim.spark;

import java.util.HashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * The SparkSession of a job. Under spark-submit the master and options come from it; run from
 * the launcher, {@code --master} (default local[2]) applies. Defaults that matter for this
 * product: barrier stages fail in seconds (not ten minutes) when there are too few slots, and
 * local runs bind to 127.0.0.1.
 */
public final class SparkSessions {
    /**
     * Set by the launcher when no Spark distribution is installed: executors of a standalone
     * cluster on this machine then take the driver's classpath (as local-cluster executors do).
     */
    public static final String SHARE_CLASSPATH = "siameseim.shareDriverClasspath";

    private SparkSessions() {}

    public static SparkSession create(String appName, String master) {
        return create(appName, master, false);
    }

    /**
     * A session on exactly {@code master}, whatever spark-submit or the launcher passed (its
     * default --master local[2] arrives as spark.master): for benchmarks that compare masters.
     */
    public static SparkSession createOn(String appName, String master) {
        return create(appName, master, true);
    }

    private static SparkSession create(String appName, String master, boolean force) {
        SparkConf conf = new SparkConf(true).setAppName(appName);
        if (force || !conf.contains("spark.master")) {
            conf.setMaster(master != null ? master : "local[2]");
        }
        String m = conf.get("spark.master");
        if (m.startsWith("local") && !conf.contains("spark.driver.host")) {
            conf.set("spark.driver.host", "127.0.0.1");
            conf.set("spark.driver.bindAddress", "127.0.0.1");
        }
        if (m.startsWith("local-cluster") || (m.startsWith("spark://") && Boolean.getBoolean(SHARE_CLASSPATH))) {
            // executors are separate JVMs on this machine started without a Spark distribution:
            // give them this JVM's classpath and flags
            conf.setIfMissing("spark.executor.extraClassPath", System.getProperty("java.class.path"));
            conf.setIfMissing("spark.executorEnv.SPARK_SCALA_VERSION", "2.13");
            conf.setIfMissing("spark.executorEnv.SPARK_LOCAL_IP", "127.0.0.1");
            conf.setIfMissing("spark.executor.extraJavaOptions",
                    "-Dai.djl.offline=true -DOPT_OUT_TRACKING=true -Dai.djl.pytorch.graph_optimizer=false"
                            + " --add-modules=jdk.incubator.vector");
            // wait for every executor before the first (barrier) job: the wait only applies when
            // spark.cores.max is known
            java.util.regex.Matcher lc = java.util.regex.Pattern
                    .compile("local-cluster\\[\\s*(\\d+)\\s*,\\s*(\\d+)\\s*,.*").matcher(m);
            if (lc.matches()) {
                conf.setIfMissing("spark.cores.max",
                        Integer.toString(Integer.parseInt(lc.group(1)) * Integer.parseInt(lc.group(2))));
            }
            conf.setIfMissing("spark.scheduler.minRegisteredResourcesRatio", "1.0");
        }
        // a barrier stage needs all its slots at once: in local mode the slots are fixed, so fail
        // at once with a clear message; on a cluster executors may still be starting, so wait up
        // to two minutes (Spark's default is 40 checks 15 s apart)
        conf.setIfMissing("spark.scheduler.barrier.maxConcurrentTasksCheck.maxFailures",
                m.startsWith("local[") || m.equals("local") ? "1" : "120");
        conf.setIfMissing("spark.scheduler.barrier.maxConcurrentTasksCheck.interval", "1s");
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");
        return SparkSession.builder().config(conf).getOrCreate();
    }

    /** The Hadoop configuration as a serialisable map, to rebuild it inside tasks. */
    public static Map<String, String> hadoopConf(SparkSession spark) {
        Map<String, String> m = new HashMap<>();
        for (Map.Entry<String, String> e : spark.sparkContext().hadoopConfiguration()) {
            m.put(e.getKey(), e.getValue());
        }
        return m;
    }

    public static Configuration rebuild(Map<String, String> entries) {
        Configuration c = new Configuration(false);
        entries.forEach(c::set);
        return c;
    }
}
