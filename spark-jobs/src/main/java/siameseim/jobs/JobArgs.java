package siameseim.jobs;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Command line of one job: {@code --conf FILE}, repeated {@code --set key=value}, and the job's
 * own {@code --name value} options or flags. Unknown options are reported by the job.
 */
public final class JobArgs {
    private final String confFile;
    private final List<String> overrides;
    private final Map<String, String> options;
    /** The caller's session (the job runs on it and leaves it running), or null: the job makes its own. */
    private final org.apache.spark.sql.SparkSession given;

    private JobArgs(String confFile, List<String> overrides, Map<String, String> options,
            org.apache.spark.sql.SparkSession given) {
        this.confFile = confFile;
        this.overrides = overrides;
        this.options = options;
        this.given = given;
    }

    /** These arguments, to run on {@code spark} (a session the job did not create and does not stop). */
    JobArgs on(org.apache.spark.sql.SparkSession spark) {
        if (options.containsKey("master")) {
            throw new UsageError("--master is not allowed on a given session (it already has its master)");
        }
        return new JobArgs(confFile, overrides, options, spark);
    }

    /**
     * The session the job runs in: the caller's, left running at the end, or a new one with
     * {@code --master} (default local[2]), stopped at the end.
     */
    JobSession session(String appName) {
        return given != null ? new JobSession(given, false)
                : new JobSession(siameseim.spark.SparkSessions.create(appName, option("master", null)), true);
    }

    /** A job's Spark session; closing it stops the session only when the job created it. */
    record JobSession(org.apache.spark.sql.SparkSession spark, boolean owned) implements AutoCloseable {
        @Override
        public void close() {
            if (owned) {
                spark.stop();
            }
        }
    }

    public static JobArgs parse(String[] args) {
        String conf = null;
        List<String> sets = new ArrayList<>();
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--conf")) {
                conf = value(args, ++i, a);
            } else if (a.equals("--set")) {
                sets.add(value(args, ++i, a));
            } else if (a.startsWith("--set=")) {
                sets.add(a.substring(6));
            } else if (a.startsWith("--") && a.contains("=")) {
                opts.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
            } else if (a.startsWith("--")) {
                boolean hasValue = i + 1 < args.length && !args[i + 1].startsWith("--");
                opts.put(a.substring(2), hasValue ? args[++i] : "true");
            } else {
                throw new UsageError("unexpected argument '" + a + "'");
            }
        }
        return new JobArgs(conf, Collections.unmodifiableList(sets), opts, null);
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            throw new UsageError(flag + " needs a value");
        }
        return args[i];
    }

    public String confFile(String fallback) {
        return confFile != null ? confFile : fallback;
    }

    public List<String> overrides() {
        return overrides;
    }

    /**
     * The --set overrides, then {@code key="value"} for every (option, key) pair of
     * {@code optionToKey} whose option was given (a job's own options are config keys too).
     */
    public List<String> overridesWith(String... optionToKey) {
        List<String> sets = new java.util.ArrayList<>(overrides());
        for (int i = 0; i + 1 < optionToKey.length; i += 2) {
            String v = option(optionToKey[i], null);
            if (v != null) {
                sets.add(optionToKey[i + 1] + "=\"" + v.replace("\\", "\\\\").replace("\"", "\\\"") + "\"");
            }
        }
        return sets;
    }

    public String option(String name, String fallback) {
        return options.getOrDefault(name, fallback);
    }

    public int intOption(String name, int fallback) {
        String v = options.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new UsageError("--" + name + " expects an integer, got '" + v + "'");
        }
    }

    public boolean flag(String name) {
        return Boolean.parseBoolean(options.getOrDefault(name, "false"));
    }

    /** Fails on options the job does not know. */
    public void allowOnly(String... known) {
        List<String> k = List.of(known);
        for (String o : options.keySet()) {
            if (!k.contains(o)) {
                throw new UsageError("unknown option --" + o + (k.isEmpty() ? "" : " (options: --"
                        + String.join(", --", k) + ")"));
            }
        }
    }

    /** A wrong command line; printed as one line with the usage hint. */
    public static final class UsageError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public UsageError(String message) {
            super(message);
        }
    }
}
