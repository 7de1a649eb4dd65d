package siameseim.testing;

import org.apache.spark.sql.SparkSession;
import siameseim.spark.SparkSessions;

/** A local[2] SparkSession for tests, bound to 127.0.0.1. */
public final class LocalSpark {
    private LocalSpark() {}

    public static SparkSession start() {
        System.setProperty("spark.ui.enabled", "false");
        return SparkSessions.create("siameseim-test", "local[2]");
    }
}
