package siameseim.jobs;

import org.apache.spark.sql.SparkSession;

/**
 * The jobs as a library: run one on a Spark session the caller owns (a notebook's, another
 * application's) with the same arguments as {@code bin/siameseim <job>}; the session stays
 * running. {@code --master} is refused (the session has its master).
 */
public final class Jobs {
    private Jobs() {}

    /**
     * Runs job {@code name} on {@code spark}.
     *
     * @throws siameseim.config.ConfigError for a bad config key or value
     * @throws JobArgs.UsageError for a bad option or an unknown job
     * @throws Exception what the job failed with
     */
    public static void run(SparkSession spark, String name, String... args) throws Exception {
        Job job = Main.jobs().get(name);
        if (job == null) {
            throw new JobArgs.UsageError("unknown job '" + name + "' (jobs: " + String.join(", ", Main.jobs().keySet())
                    + ")");
        }
        int status = job.run(JobArgs.parse(args).on(spark));
        if (status != 0) {
            throw new IllegalStateException(name + " ended with status " + status);
        }
    }
}
