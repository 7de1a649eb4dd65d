package siameseim.jobs;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
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
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import siameseim.collective.AllReduceBenchmark;
import siameseim.config.ConfigLoader;
import siameseim.config.PretrainConfig;
import siameseim.datasets.bench.DataBenchmark;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.loader.CpuAffinity;
import siameseim.events.Event;
import siameseim.metrics.MetricsSink;
import siameseim.model.nn.Torch;
import siameseim.train.StepBenchmark;

/**
 * Training-step throughput of one replica (forward, loss, backward, clipping, AdamW, EMA) for the
 * demo config and for ViT-Tiny/16 at 224 px, with the analytic FLOP rate next to the machine's
 * measured SGEMM rate. Numbers only; nothing is asserted.
 */
public final class BenchJob implements Job {

    @Override
    public String name() {
        return "bench";
    }

    @Override
    public String summary() {
        return "images/s of the training step (demo config, ViT-Tiny/16 224 px) and of the data path (decode + augment)";
    }

    @Override
    public String usage() {
        return "[--threads N (2)] [--steps N (10; scaling: 120)] [--warmup N (scaling: 40)] [--rounds N (scaling: 3)]"
                + " [--only demo|tiny|data|order|allreduce|scaling]";
    }

    /** The ViT-Tiny/16 SiameseIM config of the benchmark (decoder width = encoder width). */
    static List<String> tinyOverrides(int threads) {
        return List.of("model.encoder.width=192", "model.encoder.heads=3", "model.decoder.width=192",
                "model.decoder.heads=3", "optim.batch-size=16", "train.threads=" + threads);
    }

    @Override
    public int run(JobArgs a) throws Exception {
        a.allowOnly("threads", "steps", "only", "output", "rounds", "warmup");
        int threads = a.intOption("threads", 2);
        int steps = a.intOption("steps", 10);
        String only = a.option("only", "all");
        if (only.equals("scaling")) {
            scaling(a);
            return 0;
        }
        if (only.equals("order")) {
            siameseim.datasets.bench.OrderBenchmark.run(new int[] {1, 2, 4, 8, 16, 32, 64, 256})
                    .forEach(System.out::println);
            return 0;
        }
        if (only.equals("all") || only.equals("allreduce")) {
            // same host: shared memory; then the TCP ring that ranks on different hosts use
            for (boolean shm : new boolean[] {true, false}) {
                for (AllReduceBenchmark.Result r : AllReduceBenchmark.run(2, new int[] {1, 4, 16, 64, 256}, 7, shm)) {
                    System.out.println(r.line());
                }
            }
            if (only.equals("allreduce")) {
                return 0;
            }
        }
        if (only.equals("all") || only.equals("data")) {
            dataBenchmark(a);
            if (only.equals("data")) {
                return 0;
            }
        }
        Torch.init(threads);
        double sgemm = sgemmGflops();
        System.out.printf(Locale.ROOT, "SGEMM 1024^3 with %d threads: %.1f GFLOP/s%n", threads, sgemm);
        List<StepBenchmark.Result> results = new ArrayList<>();
        if (!only.equals("tiny")) {
            List<String> demo = new ArrayList<>(a.overrides());
            demo.add("train.threads=" + threads);
            PretrainConfig cfg = ConfigLoader.loadPretrain(a.confFile("pretrain-demo.conf"), demo);
            results.add(StepBenchmark.run("demo 32px D64 (batch " + cfg.optim().batchSize() + ")", cfg, 3, steps));
            System.out.println(results.get(results.size() - 1).line());
        }
        if (!only.equals("demo")) {
            PretrainConfig tiny = ConfigLoader.loadPretrain(null, tinyOverrides(threads));
            results.add(StepBenchmark.run("ViT-Tiny/16 224px (batch 16)", tiny, 2, Math.max(3, steps / 2)));
            System.out.println(results.get(results.size() - 1).line());
        }
        for (StepBenchmark.Result r : results) {
            System.out.printf(Locale.ROOT, "%s: %.0f%% of the measured SGEMM rate%n", r.name(),
                    100 * r.gflopPerSecond() / sgemm);
        }
        return 0;
    }

    /**
     * The one replica's master, a fresh executor process: run in the benchmark's
     * own long-lived JVM (local[1]) it slowed down run after run (140-148 images/s against 172 for
     * a fresh process, same minutes), which inflated the efficiencies.
     */
    private static final String ALONE = "local-cluster[1,1,3072]";

    /**
     * Pretraining throughput of the demo config on the built-in data, steady state after the first
     * steps: 1 replica x 1 thread in one executor process against 2 replicas x 1 thread in two
     * (local-cluster), at the config's global batch (strong scaling: each replica gets
     * half the batch) and at twice that batch (weak scaling: each replica does the single
     * replica's work per step, as when adding GPUs). Efficiency = throughput(2) / (2 x throughput(1)).
     * The 2-replica runs are repeated in rounds, each between two 1-replica runs, and each
     * efficiency is taken within its round, because a shared machine's speed drifts by more than
     * the effect measured over minutes (10-25 %; consecutive 1-replica runs here differed by 11 %
     * in the training thread's CPU time per step, same code and data). Throughput
     * counts the steps after {@code --warmup}: fresh executor JVMs spend their first minute
     * compiling (C2 threads took 5 % of each core over steps 10-40 of a 2-replica run), which a
     * one-replica run does on the spare core.
     *
     * <p>Each round also runs two independent one-replica applications at once, each confined to
     * one CPU ({@link #independentPair}): the share of twice a lone replica that this host gives
     * any two replicas before data parallelism costs anything, printed beside the efficiencies.
     */
    static void scaling(JobArgs a) throws Exception {
        String root = a.option("output", "runs/bench");
        int steps = a.intOption("steps", 120);
        int warmup = a.intOption("warmup", 40);
        int rounds = a.intOption("rounds", 3);
        if (warmup < 1 || warmup >= steps) {
            throw new IllegalArgumentException("--warmup " + warmup + " must be at least 1 and below --steps " + steps);
        }
        int batch = ConfigLoader.loadPretrain(a.confFile("pretrain-demo.conf"), a.overrides()).optim().batchSize();
        String cluster = "local-cluster[2,1,3072]";
        // [strong, weak, independent][round]
        double[][] eff = new double[3][rounds];
        // one-replica runs bracket every round (rounds + 1 of them): each round is compared with
        // the mean of the runs just before and just after it, which cancels a linear drift
        double before = scalingRun(a, root, steps, warmup, 1, batch, ALONE, 1);
        for (int round = 0; round < rounds; round++) {
            double strong = scalingRun(a, root, steps, warmup, 2, batch, cluster, 2);
            double weak = scalingRun(a, root, steps, warmup, 2, 2 * batch, cluster, 3);
            double independent = independentPair(a, root, steps, warmup, batch);
            double after = scalingRun(a, root, steps, warmup, 1, batch, ALONE, 1);
            double single = (before + after) / 2;
            eff[0][round] = strong / (2 * single);
            eff[1][round] = weak / (2 * single);
            eff[2][round] = independent / (2 * single);
            System.out.printf(Locale.ROOT, "round %d: scaling efficiency 2 replicas vs 1 (%.1f images/s, the mean of"
                    + " the one-replica runs before and after): %.0f%% at global batch %d (strong), %.0f%% at %d"
                    + " images per replica (weak); two independent replicas at once, one CPU each: %.0f%%%n",
                    round + 1, single, 100 * eff[0][round], batch, 100 * eff[1][round], batch,
                    100 * eff[2][round]);
            before = after;
        }
        System.out.printf(Locale.ROOT, "scaling efficiency 2 replicas vs 1, median of %d rounds: %.0f%% strong"
                + " (rounds %s), %.0f%% weak (rounds %s); two independent replicas (this host's ceiling for any"
                + " two): %.0f%% (rounds %s)%n", rounds, 100 * median(eff[0]), percents(eff[0]), 100 * median(eff[1]),
                percents(eff[1]), 100 * median(eff[2]), percents(eff[2]));
    }

    /**
     * Two one-replica runs at the same time, each a separate application (its own driver and
     * executor JVMs) confined to one CPU of this process's set, as two containers of one CPU
     * would be: they exchange nothing, so their summed throughput is what this host gives two
     * replicas before any cost of data parallelism (shared caches and memory, each replica's side
     * work on its own CPU). Returns the sum of their images/s.
     */
    private static double independentPair(JobArgs a, String root, int steps, int warmup, int batch)
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
                        "--steps", Integer.toString(steps), "--warmup", Integer.toString(warmup)));
                if (a.confFile(null) != null) {
                    cmd.addAll(List.of("--conf", a.confFile(null)));
                }
                for (String o : a.overrides()) {
                    cmd.addAll(List.of("--set", o));
                }
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
                lines.stream().filter(l -> l.startsWith("pretrain, demo config")).forEach(System.out::println);
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
     * images/s. Arguments: CPU, run id, global batch, output root, then the bench's options.
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
            JobArgs a = JobArgs.parse(Arrays.copyOfRange(args, 4, args.length));
            double ips = scalingRun(a, args[3], a.intOption("steps", 120), a.intOption("warmup", 40), 1,
                    Integer.parseInt(args[2]), ALONE, Integer.parseInt(args[1]));
            System.out.println(RESULT + " " + ips);
            System.exit(0);
        }
    }

    /** One pretraining run of the scaling benchmark; returns its steady images/s. */
    private static double scalingRun(JobArgs a, String root, int steps, int warmup, int replicas, int globalBatch,
            String master, int id) throws Exception {
        List<String> sets = new ArrayList<>(List.of("train.threads=1", "distributed.replicas=" + replicas,
                "data.path=" + root + "/dataset", "train.output=" + root + "/run-" + id,
                "train.max-steps=" + steps, "checkpoint.every-steps=100000", "train.log-every-seconds=1000"));
        sets.addAll(a.overrides());
        sets.add("optim.batch-size=" + globalBatch);
        PretrainConfig cfg = ConfigLoader.loadPretrain(a.confFile("pretrain-demo.conf"), sets);
        // not create(): the launcher's default --master local[2] would win and run both replicas
        // as threads of one process
        org.apache.spark.sql.SparkSession spark = siameseim.spark.SparkSessions.createOn("siameseim bench", master);
        try {
            DemoJob.prepareBuiltInData(spark, cfg, new Path(root));
            Path out = new Path(cfg.train().output());
            Configuration hadoop = spark.sparkContext().hadoopConfiguration();
            out.getFileSystem(hadoop).delete(out, true);
            siameseim.distributed.DistributedTraining.run(spark, cfg, null, l -> { });
            SteadyState s = SteadyState.read(hadoop, out, warmup);
            String confined = "";
            try {
                BitSet cpus = CpuAffinity.ofCurrentThread();
                confined = cpus.cardinality() == 1 ? " on CPU " + cpus.nextSetBit(0) + " only" : "";
            } catch (UnsupportedOperationException e) {
                // not Linux: nothing confined
            }
            System.out.printf(Locale.ROOT, "pretrain, demo config, %d replica(s) x 1 thread%s, global batch %d (%s):"
                    + " %.1f images/s (steps %d-%d; rank 0 per step: %s)%n", replicas, confined, globalBatch,
                    spark.sparkContext().master(), s.imagesPerSecond(), warmup + 1, s.lastStep(), s.breakdown());
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

    /** Decode and decode + two-view augmentation on one core, both decoders, both sizes; grey demo images too. */
    static void dataBenchmark(JobArgs a) throws Exception {
        PretrainConfig demo = ConfigLoader.loadPretrain(a.confFile("pretrain-demo.conf"), a.overrides());
        PretrainConfig full = ConfigLoader.loadPretrain("pretrain-vit-b16.conf", List.of());
        for (String name : List.of("opencv", "imageio")) {
            ImageDecoder dec = ImageDecoder.named(name);
            System.out.println(DataBenchmark.run(dec, full, 500, 375, false, 4).line());
            System.out.println(DataBenchmark.run(dec, demo, 48, 48, false, 2).line());
            System.out.println(DataBenchmark.run(dec, demo, 48, 48, true, 2).line());
        }
    }

    /** Median GFLOP/s of a 1024 x 1024 x 1024 float matrix product. */
    static double sgemmGflops() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.randomNormal(new Shape(1024, 1024));
            NDArray y = m.randomNormal(new Shape(1024, 1024));
            double[] t = new double[12];
            for (int i = 0; i < t.length; i++) {
                long s = System.nanoTime();
                try (NDArray z = x.matMul(y)) {
                    z.getFloat(0, 0);
                }
                t[i] = (System.nanoTime() - s) / 1e9;
            }
            double[] tail = Arrays.copyOfRange(t, 2, t.length);
            Arrays.sort(tail);
            return 2.0 * 1024 * 1024 * 1024 / tail[tail.length / 2] / 1e9;
        }
    }
}
