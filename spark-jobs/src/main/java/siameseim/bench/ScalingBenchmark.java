package siameseim.bench;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import siameseim.config.ConfigLoader;
import siameseim.config.PretrainConfig;
import siameseim.events.Event;
import siameseim.host.CpuAffinity;
import siameseim.metrics.MetricsSink;
import siameseim.prepare.BuiltInData;

/**
 * {@code bin/siameseim bench --only scaling}: pretraining throughput of 1 against 2 replicas on
 * the built-in data, each replica in an executor process of its own (docs/distributed.md,
 * "Throughput and scaling"). Numbers only; nothing is asserted.
 */
public final class ScalingBenchmark {
    private ScalingBenchmark() {}

    /** The benchmark's options: run folder, steps per run, warm-up steps, rounds, config. */
    public record Options(String root, int steps, int warmup, int rounds, String conf, List<String> overrides) {
        String confOr(String fallback) {
            return conf != null ? conf : fallback;
        }
    }

    /**
     * The one replica's master, a fresh executor process like the pair's: run in the benchmark's
     * own long-lived JVM (local[1]) it slows down run after run, which would inflate the
     * efficiencies.
     */
    private static final String ALONE = "local-cluster[1,1,3072]";

    /**
     * Pretraining throughput of the demo config on the built-in data, steady state after the first
     * steps: 1 replica x 1 thread in one executor process against 2 replicas x 1 thread in two
     * (local-cluster), at the config's global batch (strong scaling: each replica gets
     * half the batch) and at twice that batch (weak scaling: each replica does the single
     * replica's work per step, as when adding GPUs). Efficiency = throughput(2) / (2 x throughput(1)).
     * The 2-replica runs are repeated in rounds, each between two 1-replica runs, and each
     * efficiency is taken within its round, because a shared machine's speed drifts over minutes
     * by more than the effect measured. Throughput counts the steps after {@code --warmup}: fresh
     * executor JVMs spend their first minute compiling, which a one-replica run does on the spare
     * core.
     *
     * <p>Each round also runs two independent one-replica applications at once, each confined to
     * one CPU ({@link #independentPair}): the share of twice a lone replica that this host gives
     * any two replicas before data parallelism costs anything, printed beside the efficiencies.
     */
    public static void run(Options o, Consumer<String> out) throws Exception {
        String root = o.root();
        int steps = o.steps();
        int warmup = o.warmup();
        int rounds = o.rounds();
        if (warmup < 1 || warmup >= steps) {
            throw new IllegalArgumentException("--warmup " + warmup + " must be at least 1 and below --steps " + steps);
        }
        int batch = ConfigLoader.loadPretrain(o.confOr("pretrain-demo.conf"), o.overrides()).optim().batchSize();
        String cluster = "local-cluster[2,1,3072]";
        // [strong, weak, independent][round]
        double[][] eff = new double[3][rounds];
        // one-replica runs bracket every round (rounds + 1 of them): each round is compared with
        // the mean of the runs just before and just after it, which cancels a linear drift
        double before = scalingRun(o, out, root, steps, warmup, 1, batch, ALONE, 1);
        for (int round = 0; round < rounds; round++) {
            double strong = scalingRun(o, out, root, steps, warmup, 2, batch, cluster, 2);
            double weak = scalingRun(o, out, root, steps, warmup, 2, 2 * batch, cluster, 3);
            double independent = independentPair(o, out, root, steps, warmup, batch);
            double after = scalingRun(o, out, root, steps, warmup, 1, batch, ALONE, 1);
            double single = (before + after) / 2;
            eff[0][round] = strong / (2 * single);
            eff[1][round] = weak / (2 * single);
            eff[2][round] = independent / (2 * single);
            out.accept(String.format(Locale.ROOT, "round %d: scaling efficiency 2 replicas vs 1 (%.1f images/s, the mean of"
                    + " the one-replica runs before and after): %.0f%% at global batch %d (strong), %.0f%% at %d"
                    + " images per replica (weak); two independent replicas at once, one CPU each: %.0f%%",
                    round + 1, single, 100 * eff[0][round], batch, 100 * eff[1][round], batch,
                    100 * eff[2][round]));
            before = after;
        }
        out.accept(String.format(Locale.ROOT, "scaling efficiency 2 replicas vs 1, median of %d rounds: %.0f%% strong"
                + " (rounds %s), %.0f%% weak (rounds %s); two independent replicas (this host's ceiling for any"
                + " two): %.0f%% (rounds %s)", rounds, 100 * median(eff[0]), percents(eff[0]), 100 * median(eff[1]),
                percents(eff[1]), 100 * median(eff[2]), percents(eff[2])));
    }

    /**
     * Two one-replica runs at the same time, each a separate application (its own driver and
     * executor JVMs) confined to one CPU of this process's set, as two containers of one CPU
     * would be: they exchange nothing, so their summed throughput is what this host gives two
     * replicas before any cost of data parallelism (shared caches and memory, each replica's side
     * work on its own CPU). Returns the sum of their images/s.
     */
    private static double independentPair(Options o, Consumer<String> out, String root, int steps, int warmup,
            int batch)
            throws Exception {
        BitSet allowed = CpuAffinity.ofCurrentThread();
        if (allowed.cardinality() < 2) {
            throw new IllegalStateException("the scaling benchmark needs 2 CPUs; this process may use "
                    + CpuAffinity.format(allowed));
        }
        String java = ProcessHandle.current().info().command()
                .orElse(System.getProperty("java.home") + "/bin/java");
        List<Process> children = new ArrayList<>();
        List<File> logs = new ArrayList<>();
        try {
            int cpu = allowed.nextSetBit(0);
            for (int k = 0; k < 2; k++, cpu = allowed.nextSetBit(cpu + 1)) {
                List<String> cmd = new ArrayList<>(List.of(java));
                cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
                cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ConfinedRun.class.getName(),
                        Integer.toString(cpu), Integer.toString(5 + k), Integer.toString(batch), root,
                        Integer.toString(steps), Integer.toString(warmup)));
                cmd.add(o.conf() == null ? "-" : o.conf());
                cmd.addAll(o.overrides());
                File log = File.createTempFile("siameseim-bench-independent-", ".log");
                logs.add(log);
                children.add(new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log).start());
            }
            double sum = 0;
            for (int k = 0; k < 2; k++) {
                int rc = children.get(k).waitFor();
                List<String> lines = Files.readAllLines(logs.get(k).toPath());
                String result = lines.stream().filter(l -> l.startsWith(ConfinedRun.RESULT)).findFirst().orElse(null);
                if (rc != 0 || result == null) {
                    throw new IOException("independent one-replica run " + (k + 1) + " failed (exit " + rc + "); its"
                            + " output is in " + logs.get(k) + ":\n" + String.join("\n",
                                    lines.subList(Math.max(0, lines.size() - 20), lines.size())));
                }
                lines.stream().filter(l -> l.startsWith("pretrain, demo config")).forEach(out);
                sum += Double.parseDouble(result.substring(ConfinedRun.RESULT.length()).trim());
            }
            logs.forEach(File::delete);
            return sum;
        } finally {
            children.forEach(Process::destroyForcibly);
        }
    }

    /**
     * One run of {@link #independentPair}, in a JVM of its own: holds every thread of this
     * process (and so the executor it starts) on one CPU, then runs one replica and prints its
     * images/s. Arguments: CPU, run id, global batch, output root, steps, warm-up steps, the
     * config file ("-" for none), then the overrides.
     */
    static final class ConfinedRun {
        static final String RESULT = "independent-run images/s:";

        private ConfinedRun() {}

        public static void main(String[] args) throws Exception {
            BitSet cpu = new BitSet();
            cpu.set(Integer.parseInt(args[0]));
            String refused = CpuAffinity.setForProcess(cpu);
            if (refused != null) {
                throw new IllegalStateException("cannot confine the run to CPU " + args[0] + ": " + refused);
            }
            Options o = new Options(args[3], Integer.parseInt(args[4]), Integer.parseInt(args[5]), 1,
                    args[6].equals("-") ? null : args[6], List.of(Arrays.copyOfRange(args, 7, args.length)));
            double ips = scalingRun(o, System.out::println, o.root(), o.steps(), o.warmup(), 1,
                    Integer.parseInt(args[2]), ALONE, Integer.parseInt(args[1]));
            System.out.println(RESULT + " " + ips);
            System.exit(0);
        }
    }

    /** One pretraining run of the scaling benchmark; returns its steady images/s. */
    private static double scalingRun(Options o, Consumer<String> out, String root, int steps, int warmup,
            int replicas, int globalBatch, String master, int id) throws Exception {
        List<String> sets = new ArrayList<>(List.of("train.threads=1", "distributed.replicas=" + replicas,
                "data.path=" + root + "/dataset", "train.output=" + root + "/run-" + id,
                "train.max-steps=" + steps, "checkpoint.every-steps=100000", "train.log-every-seconds=1000"));
        sets.addAll(o.overrides());
        sets.add("optim.batch-size=" + globalBatch);
        PretrainConfig cfg = ConfigLoader.loadPretrain(o.confOr("pretrain-demo.conf"), sets);
        // not create(): the launcher's default --master local[2] would win and run both replicas
        // as threads of one process
        org.apache.spark.sql.SparkSession spark = siameseim.spark.SparkSessions.createOn("siameseim bench", master);
        try {
            BuiltInData.prepare(spark, cfg, new Path(root), l -> { });
            Path run = new Path(cfg.train().output());
            Configuration hadoop = spark.sparkContext().hadoopConfiguration();
            run.getFileSystem(hadoop).delete(run, true);
            siameseim.distributed.DistributedTraining.run(spark, cfg, null, l -> { });
            SteadyState s = SteadyState.read(hadoop, run, warmup);
            String confined = "";
            try {
                BitSet cpus = CpuAffinity.ofCurrentThread();
                confined = cpus.cardinality() == 1 ? " on CPU " + cpus.nextSetBit(0) + " only" : "";
            } catch (UnsupportedOperationException e) {
                // not Linux: nothing confined
            }
            out.accept(String.format(Locale.ROOT, "pretrain, demo config, %d replica(s) x 1 thread%s, global batch %d"
                    + " (%s): %.1f images/s (steps %d-%d; rank 0 per step: %s)", replicas, confined, globalBatch,
                    spark.sparkContext().master(), s.imagesPerSecond(), warmup + 1, s.lastStep(), s.breakdown()));
            return s.imagesPerSecond();
        } finally {
            spark.stop();
        }
    }

    /**
     * Rank 0's steady throughput from its metrics lines: the images of the steps after
     * {@code warmup} over the wall-clock time between the warm-up's last step and the last step,
     * with the mean of each step-time field over the same steps.
     */
    record SteadyState(double imagesPerSecond, long lastStep, String breakdown) {
        private static final String[] FIELDS = {"compute", "sync", "allreduce", "load", "cpu"};

        static SteadyState read(Configuration hadoop, Path runOutput, int warmup) throws IOException {
            TreeMap<Long, Event.Step> steps = new TreeMap<>();
            for (Event e : MetricsSink.read(hadoop, runOutput, Long.MAX_VALUE)) {
                if (e instanceof Event.Step s) {
                    steps.put(s.step(), s);
                }
            }
            Event.Step from = steps.get((long) warmup);
            if (from == null || steps.lastKey() <= warmup) {
                throw new IOException("the metrics under " + runOutput + " have no steps after step " + warmup);
            }
            double images = 0;
            double[] sums = new double[FIELDS.length];
            SortedMap<Long, Event.Step> tail = steps.tailMap((long) warmup + 1);
            for (Event.Step s : tail.values()) {
                images += s.images();
                double[] v = {s.computeMs(), s.syncMs(), s.allreduceMs(), s.loadMs(), s.cpuMs()};
                for (int i = 0; i < FIELDS.length; i++) {
                    sums[i] += Double.isNaN(v[i]) ? 0 : v[i];
                }
            }
            double seconds = steps.get(steps.lastKey()).time() - from.time();
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < FIELDS.length; i++) {
                b.append(i == 0 ? "" : ", ").append(FIELDS[i]).append(' ')
                        .append(Math.round(sums[i] / tail.size())).append(" ms");
            }
            return new SteadyState(images / seconds, steps.lastKey(), b.toString());
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static String percents(double[] v) {
        StringBuilder b = new StringBuilder();
        for (double x : v) {
            b.append(b.length() == 0 ? "" : ", ").append(Math.round(100 * x));
        }
        return b.toString();
    }
}
