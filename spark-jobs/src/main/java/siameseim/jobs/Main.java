package siameseim.jobs;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import siameseim.config.ConfigError;

/**
 * The launcher's entry point: {@code bin/siameseim <job> [--conf FILE] [--set key=value ...]
 * [job options]}. Configuration and usage errors print one line and exit with status 2.
 */
public final class Main {
    private static final List<Job> JOBS = List.of(new DemoJob(), new GenerateJob(), new PrepareJob(), new SubsetJob(),
            new PretrainJob(), new FinetuneJob(), new EvaluateJob(), new KnnJob(), new LinearProbeJob(), new FewShotJob(),
            new ExportJob(), new EmbedJob(), new PipelineJob(), new BenchJob(), new DoctorJob());

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static Map<String, Job> jobs() {
        Map<String, Job> m = new LinkedHashMap<>();
        JOBS.forEach(j -> m.put(j.name(), j));
        return m;
    }

    public static int run(String[] args) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            System.out.println(help());
            return args.length == 0 ? 2 : 0;
        }
        Job job = jobs().get(args[0]);
        if (job == null) {
            System.err.println("siameseim: unknown job '" + args[0] + "'\n\n" + help());
            return 2;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        if (Arrays.asList(rest).contains("--help") || Arrays.asList(rest).contains("-h")) {
            System.out.println("usage: bin/siameseim " + job.name() + " [--conf FILE] [--set key=value ...] "
                    + job.usage() + "\n\n" + job.summary());
            return 0;
        }
        try {
            return job.run(JobArgs.parse(rest));
        } catch (ConfigError | JobArgs.UsageError e) {
            System.err.println("siameseim " + job.name() + ": " + e.getMessage());
            return 2;
        } catch (Exception e) {
            System.err.println("siameseim " + job.name() + " failed: " + describe(e));
            if (Boolean.getBoolean("siameseim.stacktraces")) {
                e.printStackTrace();
            } else {
                System.err.println("(run with SIAMESEIM_JAVA_OPTS=-Dsiameseim.stacktraces=true for the stack trace)");
            }
            return 1;
        }
    }

    /** The message chain of an exception, most specific cause last. */
    static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage() != null ? e.getMessage() : e));
        Throwable c = e.getCause();
        while (c != null && c != e) {
            if (c.getMessage() != null && !sb.toString().contains(c.getMessage())) {
                sb.append("\n  caused by: ").append(c.getMessage());
            }
            e = c;
            c = c.getCause();
        }
        return sb.toString();
    }

    static String help() {
        StringBuilder sb = new StringBuilder();
        sb.append("usage: bin/siameseim <job> [--conf FILE] [--set key=value ...] [job options] [spark options]\n\n");
        sb.append("jobs:\n");
        for (Job j : JOBS) {
            sb.append(String.format("  %-12s %s%n", j.name(), j.summary()));
        }
        sb.append("\n--conf takes a file or a bundled config (pretrain-demo.conf, pretrain-vit-b16.conf);\n");
        sb.append("--set overrides one key of conf/reference.conf. bin/siameseim <job> --help lists a job's options.\n");
        sb.append("Spark options (passed to SparkSubmit): --master URL (default local[2]), --spark-conf key=value,\n");
        sb.append("--executor-memory, --executor-cores, --total-executor-cores, --num-executors, --jars, --files.");
        return sb.toString();
    }
}
