package siameseim.doctor;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.sql.SparkSession;
import siameseim.collective.AllReduceBenchmark;
import siameseim.collective.Collective;
import siameseim.collective.Handshake;
import siameseim.config.PretrainConfig;
import siameseim.distributed.DistributedTraining;
import siameseim.model.nn.Torch;
import siameseim.spark.Barrier;
import siameseim.spark.Rendezvous;
import siameseim.spark.TaskDevice;
import siameseim.train.MixedPrecision;
import siameseim.train.PrecisionCheck;
import siameseim.train.StepBenchmark;

/**
 * The first thing to run on a new cluster: one barrier task per replica, submitted exactly as
 * training is, reports its host, the engine and PyTorch versions, where the natives were loaded
 * from, the devices PyTorch sees against the GPUs Spark assigned, free device memory, three timed
 * training steps of the config on its device, and the collective's pre-flight between the
 * replicas. The driver prints one table and every problem found.
 */
public final class Doctor {
    /** Bytes of the pre-flight all-reduce. */
    static final long PREFLIGHT_BYTES = 32L << 20;

    private Doctor() {}

    /** What one replica found. */
    public record Report(int rank, String host, String djl, String pytorch, String natives, int visibleGpus,
            String assignedGpus, String device, String freeDeviceMemory, double imagesPerSecond,
            double fp16ImagesPerSecond, String precision, double busGiBps, List<String> problems)
            implements Serializable {}

    /** Runs the check; the problems found (empty: the cluster is ready). */
    public static List<String> run(SparkSession spark, PretrainConfig cfg, Consumer<String> out) {
        int n = cfg.distributed().replicas();
        byte[] secret = Handshake.newSecret();
        List<Integer> ranks = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            ranks.add(r);
        }
        out.accept(String.format(Locale.ROOT, "[doctor] %d replicas (distributed.replicas); steps of the config's"
                + " model (%d px, width %d, depth %d), batch %d, %d intra-op thread(s)", n, cfg.model().imageSize(),
                cfg.model().encoder().width(), cfg.model().encoder().depth(), cfg.optim().batchSize(),
                cfg.train().threads()));
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<Report> reports;
        try {
            reports = new ArrayList<>(Barrier.mapPartitions(jsc.parallelize(ranks, n),
                    (Iterator<Integer> it) -> List.of(check(cfg, secret)).iterator(), Report.class).collect());
        } catch (Exception e) {
            throw siameseim.distributed.TrainingFaults.explain(e, n, "doctor");
        }
        reports.sort(java.util.Comparator.comparingInt(Report::rank));
        out.accept("| rank | host | DJL | PyTorch | natives | GPUs seen | GPUs assigned | device | free device memory"
                + " | images/s fp32 (3 steps) | images/s fp16-mixed (3 steps) | all-reduce GiB/s |");
        out.accept("|---|---|---|---|---|---|---|---|---|---|---|---|");
        List<String> problems = new ArrayList<>();
        for (Report r : reports) {
            out.accept(String.format(Locale.ROOT, "| %d | %s | %s | %s | %s | %d | %s | %s | %s | %.1f | %.1f | %.2f |",
                    r.rank(), r.host(), r.djl(), r.pytorch(), r.natives(), r.visibleGpus(), r.assignedGpus(),
                    r.device(), r.freeDeviceMemory(), r.imagesPerSecond(), r.fp16ImagesPerSecond(), r.busGiBps()));
            r.problems().forEach(p -> problems.add("rank " + r.rank() + " on " + r.host() + ": " + p));
        }
        if (reports.stream().map(Report::pytorch).distinct().count() > 1) {
            problems.add("the replicas load different PyTorch versions: "
                    + reports.stream().map(r -> r.host() + " " + r.pytorch()).distinct().toList());
        }
        reports.forEach(r -> out.accept("[doctor] rank " + r.rank() + ": " + r.precision()));
        problems.forEach(p -> out.accept("[doctor] problem: " + p));
        out.accept(problems.isEmpty() ? "[doctor] no problem found" : "[doctor] " + problems.size() + " problem(s)");
        return problems;
    }

    /** One replica's checks; failures become problems in its report, never a failed task. */
    static Report check(PretrainConfig cfg, byte[] secret) {
        BarrierTaskContext ctx = BarrierTaskContext.get();
        int rank = ctx.partitionId();
        String host = Rendezvous.hostOf(ctx.getTaskInfos()[rank].address());
        List<String> problems = new ArrayList<>();
        ResourceInformation gpu = ctx.resources().get("gpu").getOrElse(() -> null);
        String assigned = gpu == null ? "none" : String.join(",", gpu.addresses());
        String djl = "?";
        String pytorch = "?";
        String natives = "?";
        int visible = 0;
        String device = "?";
        String memory = "n/a";
        double ips = 0;
        double fp16Ips = 0;
        String precision = "precision not checked";
        try {
            Torch.init(cfg.train().threads());
            Engine engine = Engine.getEngine("PyTorch");
            djl = Engine.getDjlVersion();
            pytorch = engine.getVersion();
            natives = nativesFolder();
            visible = engine.getGpuCount();
            Device d = TaskDevice.of(ctx);
            device = d.toString();
            if (d.isGpu()) {
                Torch.allowTf32(cfg.train().tf32());
                java.lang.management.MemoryUsage mu = ai.djl.util.cuda.CudaUtils.getGpuMemory(d);
                memory = String.format(Locale.ROOT, "%.1f of %.1f GiB", (mu.getMax() - mu.getCommitted()) / 1073741824.0,
                        mu.getMax() / 1073741824.0);
            }
            ips = StepBenchmark.run("doctor", cfg, 1, 3, d, MixedPrecision.fp32()).imagesPerSecond();
            // what train.precision = auto would choose on this replica, and the step in fp16-mixed either way
            PrecisionCheck.Choice choice = d.isGpu() ? PrecisionCheck.check(cfg, d) : PrecisionCheck.choose(cfg, d);
            precision = choice.note();
            fp16Ips = StepBenchmark.run("doctor", cfg, 1, 3, d, MixedPrecision.fp16(d)).imagesPerSecond();
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            problems.add(e.getMessage() != null ? e.getMessage() : e.toString());
        }
        double bus = 0;
        try (Collective c = Rendezvous.connect(ctx, cfg.distributed().bindHost(), secret,
                cfg.distributed().timeoutMillis(), line -> { })) {
            if (c != null) {
                bus = AllReduceBenchmark.preflight(c, PREFLIGHT_BYTES).busGiBps();
            }
        } catch (IOException | RuntimeException e) {
            problems.add("collective: " + e.getMessage());
        }
        return new Report(rank, host, djl, pytorch, natives, visible, assigned, device, memory, ips, fp16Ips, precision,
                bus, List.copyOf(problems));
    }

    /** The folder libtorch was loaded from, as this process mapped it (Linux), else what DJL was told. */
    static String nativesFolder() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                int at = line.indexOf('/');
                if (at >= 0 && (line.contains("libtorch_cpu.") || line.contains("libtorch.so"))) {
                    Path lib = Path.of(line.substring(at).trim());
                    return lib.getParent().toString();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        String env = System.getenv("PYTORCH_LIBRARY_PATH");
        return env != null ? env + " (PYTORCH_LIBRARY_PATH)" : "?";
    }
}
