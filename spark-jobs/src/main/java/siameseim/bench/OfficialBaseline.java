package siameseim.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import siameseim.collective.AllReduceBenchmark;
import siameseim.config.ModelConfig;
import siameseim.config.PretrainConfig;
import siameseim.datasets.bench.DataBenchmark;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.train.StepBenchmark;

/**
 * The official implementation measured beside ours in one run ({@code bench --official}): the scripts of
 * {@code docs/bench} (packaged with this module) run under a Python with PyTorch as child processes, in rounds
 * that alternate with our own measurement (ours, official, ours, official, ...), so both sides see the same
 * machine and the same load. A round's ratio compares its two neighbouring measurements; the reported ratio is
 * the median over rounds. The figures are printed, nothing is asserted (docs/distributed.md, "Throughput and
 * scaling").
 */
public final class OfficialBaseline {
    private final String python;
    private final String torchVersion;
    private final Consumer<String> out;

    private OfficialBaseline(String python, String torchVersion, Consumer<String> out) {
        this.python = python;
        this.torchVersion = torchVersion;
        this.out = out;
    }

    /** The official step's figures (one JSON line of official_step.py). */
    public record Step(double msPerStep, double imagesPerSecond, double sgemmGflops, String torch, String blas) {
        static Step parse(String json) {
            JsonObject o = JsonParser.parseString(json).getAsJsonObject();
            return new Step(o.get("ms_per_step").getAsDouble(), o.get("images_per_s").getAsDouble(),
                    o.get("sgemm_gflops").getAsDouble(), o.get("torch").getAsString(), o.get("blas").getAsString());
        }
    }

    /** One size of gloo_allreduce.py. */
    public record Gloo(int mib, double ms, double busGiBps) {
        static Gloo parse(String json) {
            JsonObject o = JsonParser.parseString(json).getAsJsonObject();
            return new Gloo(o.get("mib").getAsInt(), o.get("ms").getAsDouble(), o.get("bus_gib_s").getAsDouble());
        }
    }

    /** The official data path's figures (one JSON line of official_augment.py). */
    public record Augment(double decodePerSecond, double decodeAugmentPerSecond, double decodeAugmentPerCpuSecond,
            String torchvision, String pil) {
        static Augment parse(String json) {
            JsonObject o = JsonParser.parseString(json).getAsJsonObject();
            return new Augment(o.get("decode_per_s").getAsDouble(), o.get("decode_augment_per_s").getAsDouble(),
                    o.get("decode_augment_per_cpu_s").getAsDouble(), o.get("torchvision").getAsString(),
                    o.get("pil").getAsString());
        }
    }

    /**
     * A Python whose {@code import torch} works, or empty after one line that says why the official side is
     * skipped (no such program, or no PyTorch in it).
     */
    public static Optional<OfficialBaseline> find(String python, Consumer<String> out) {
        try {
            Run r = run(List.of(python, "-c", "import torch; print(torch.__version__)"));
            if (r.exit == 0 && !r.lines.isEmpty()) {
                return Optional.of(new OfficialBaseline(python, r.lines.get(r.lines.size() - 1).strip(), out));
            }
            out.accept("bench: the official side is skipped: " + python + " has no PyTorch ("
                    + (r.lines.isEmpty() ? "exit " + r.exit : r.lines.get(r.lines.size() - 1).strip())
                    + "; --python PATH names another)");
        } catch (IOException e) {
            out.accept("bench: the official side is skipped: cannot run " + python + " (" + e.getMessage()
                    + "; --python PATH names another)");
        }
        return Optional.empty();
    }

    /**
     * Our step and the official one on {@code cfg}, alternately for {@code rounds} rounds, each with
     * {@code warmup} + {@code steps} steps on {@code threads} threads; prints each round and the summary.
     */
    public void compareStep(Path officialCode, String name, PretrainConfig cfg, int threads, int warmup, int steps,
            int rounds, double ourSgemm) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(python, script("official_step.py").toString(),
                officialCode.toString(), "--name", name));
        cmd.addAll(stepArguments(cfg, threads, warmup, steps));
        double[] ours = new double[rounds];
        double[] official = new double[rounds];
        Step last = null;
        for (int i = 0; i < rounds; i++) {
            StepBenchmark.Result r = StepBenchmark.run(name, cfg, warmup, steps);
            ours[i] = r.imagesPerSecond();
            out.accept("round " + (i + 1) + " ours:     " + r.line());
            last = Step.parse(jsonLines(cmd).get(0));
            official[i] = last.imagesPerSecond();
            out.accept(String.format(Locale.ROOT, "round %d official: %-28s batch %4d  %8.1f ms/step"
                    + "                        %7.1f images/s", i + 1, name, cfg.optim().batchSize(), last.msPerStep(),
                    last.imagesPerSecond()));
        }
        out.accept(String.format(Locale.ROOT, "%s: ours %s images/s, the official code %s images/s (torch %s, "
                + "SGEMM %.1f GFLOP/s against our %.1f): ours / official %.2f (rounds %s)", name, join(ours),
                join(official), last.torch(), last.sgemmGflops(), ourSgemm, medianRatio(ours, official),
                join(ratios(ours, official))));
        if (last.sgemmGflops() < ourSgemm / 2) {
            out.accept(String.format(Locale.ROOT, "note: the official side's torch multiplies matrices %.1f times "
                    + "slower than ours (its BLAS: %s), so this ratio measures the BLAS more than the code; Debian's "
                    + "python3-torch takes the system's libblas.so.3: install libopenblas0-pthread, or give --python a "
                    + "wrapper that puts OpenBLAS on LD_LIBRARY_PATH", ourSgemm / last.sgemmGflops(), last.blas()));
        }
    }

    /**
     * Our all-reduce between two JVMs (shared memory, then the TCP ring) and PyTorch Gloo between two Python
     * processes, alternately for {@code rounds} rounds; prints each round and the ratios per size.
     */
    public void compareAllReduce(int[] sizesMib, int repeats, int rounds) throws Exception {
        String sizes = Arrays.stream(sizesMib).mapToObj(Integer::toString).collect(Collectors.joining(","));
        double[][] shm = new double[sizesMib.length][rounds];
        double[][] tcp = new double[sizesMib.length][rounds];
        double[][] gloo = new double[sizesMib.length][rounds];
        for (int i = 0; i < rounds; i++) {
            for (boolean sharedMemory : new boolean[] {true, false}) {
                List<AllReduceBenchmark.Result> rs = AllReduceBenchmark.run(2, sizesMib, repeats, sharedMemory);
                for (int s = 0; s < rs.size(); s++) {
                    (sharedMemory ? shm : tcp)[s][i] = rs.get(s).busGiBps();
                    out.accept("round " + (i + 1) + " ours:     " + rs.get(s).line());
                }
            }
            int port;
            try (ServerSocket free = new ServerSocket(0)) {
                port = free.getLocalPort();
            }
            List<String> lines = jsonLines(List.of(python, script("gloo_allreduce.py").toString(), "--port",
                    Integer.toString(port), "--sizes", sizes));
            for (int s = 0; s < lines.size(); s++) {
                Gloo g = Gloo.parse(lines.get(s));
                gloo[s][i] = g.busGiBps();
                out.accept(String.format(Locale.ROOT, "round %d official: gloo all-reduce %4d MiB (torch %s, 2 "
                        + "processes): %8.2f ms, bus bandwidth %.2f GiB/s", i + 1, g.mib(), torchVersion, g.ms(),
                        g.busGiBps()));
            }
        }
        for (int s = 0; s < sizesMib.length; s++) {
            out.accept(String.format(Locale.ROOT, "all-reduce %d MiB, bus bandwidth GiB/s: ours shared memory %s, "
                    + "ours TCP ring %s, PyTorch Gloo %s (torch %s): shared memory / Gloo %.2f, TCP ring / Gloo %.2f",
                    sizesMib[s], join(shm[s]), join(tcp[s]), join(gloo[s]), torchVersion,
                    medianRatio(shm[s], gloo[s]), medianRatio(tcp[s], gloo[s])));
        }
    }

    /**
     * Our data path (decode + two-view augmentation + mask on one core) and the official one (PIL decode,
     * {@code DataAugmentationForSIM} and the block mask on one thread, official_augment.py) on the same
     * {@code width} x {@code height} colour JPEGs, alternately for {@code rounds} rounds of {@code seconds} per
     * figure; prints each round and the summary (docs/dataset-format.md, "Decoder and augmentation throughput").
     */
    public void compareData(Path officialCode, ImageDecoder decoder, PretrainConfig cfg, int width, int height,
            double seconds, int rounds) throws Exception {
        Path images = Files.createTempDirectory("siameseim-bench-jpegs-");
        images.toFile().deleteOnExit();
        List<byte[]> jpegs = DataBenchmark.jpegs(decoder, width, height, false);
        for (int i = 0; i < jpegs.size(); i++) {
            Path f = images.resolve(String.format(Locale.ROOT, "%02d.jpg", i));
            Files.write(f, jpegs.get(i));
            f.toFile().deleteOnExit();
        }
        List<String> cmd = List.of(python, script("official_augment.py").toString(), officialCode.toString(),
                "--images", images.toString(), "--seconds", Double.toString(seconds), "--threads", "1");
        double[] ours = new double[rounds];
        double[] official = new double[rounds];
        double[] oursCpu = new double[rounds];
        double[] officialCpu = new double[rounds];
        Augment last = null;
        for (int i = 0; i < rounds; i++) {
            DataBenchmark.Result r = DataBenchmark.run(decoder, cfg, width, height, false, seconds);
            ours[i] = r.decodeAugmentPerSecond();
            oursCpu[i] = r.decodeAugmentPerCpuSecond();
            out.accept("round " + (i + 1) + " ours:     " + r.line());
            last = Augment.parse(jsonLines(cmd).get(0));
            official[i] = last.decodeAugmentPerSecond();
            officialCpu[i] = last.decodeAugmentPerCpuSecond();
            out.accept(String.format(Locale.ROOT, "round %d official: PIL %s, %d x %d JPEG -> %d px views: decode %7.1f "
                    + "img/s, decode + DataAugmentationForSIM + mask %7.1f img/s (%7.1f per CPU second; one thread, "
                    + "torchvision %s)", i + 1, last.pil(), width, height, cfg.model().imageSize(),
                    last.decodePerSecond(), last.decodeAugmentPerSecond(), last.decodeAugmentPerCpuSecond(),
                    last.torchvision()));
        }
        out.accept(String.format(Locale.ROOT, "data path %d x %d colour JPEG -> two %d px views, one core: ours (%s) "
                + "%s img/s, the official code %s img/s: ours / official %.2f (rounds %s); per CPU second: ours %s, "
                + "official %s: ours / official %.2f (rounds %s)", width, height, cfg.model().imageSize(),
                decoder.name(), join(ours), join(official), medianRatio(ours, official), join(ratios(ours, official)),
                join(oursCpu), join(officialCpu), medianRatio(oursCpu, officialCpu), join(ratios(oursCpu, officialCpu))));
    }

    /** official_step.py's options for {@code cfg}: the same model, mask, optimizer, momentum and batch. */
    static List<String> stepArguments(PretrainConfig cfg, int threads, int warmup, int steps) {
        ModelConfig m = cfg.model();
        List<String> a = new ArrayList<>();
        Consumer<Object[]> opt = kv -> a.addAll(List.of("--" + kv[0], String.valueOf(kv[1])));
        for (Object[] kv : new Object[][] {{"threads", threads}, {"warmup", warmup}, {"steps", steps},
                {"image", m.imageSize()}, {"patch", m.patchSize()}, {"width", m.encoder().width()},
                {"depth", m.encoder().depth()}, {"heads", m.encoder().heads()},
                {"mlp-ratio", m.encoder().mlpRatio()}, {"decoder-width", m.decoder().width()},
                {"decoder-heads", m.decoder().heads()}, {"projector-depth", m.decoder().projectorDepth()},
                {"predictor-depth", m.decoder().predictorDepth()},
                {"decoder-norm", m.decoder().norm().name().toLowerCase(Locale.ROOT)},
                {"mask", cfg.mask().count()}, {"batch", cfg.optim().batchSize()}, {"lr", cfg.optim().peakLr()},
                {"weight-decay", cfg.optim().weightDecay()}, {"beta2", cfg.optim().beta2()},
                {"clip-grad", cfg.optim().clipGrad()}, {"ema", cfg.ema().momentum()},
                {"ema-schedule", cfg.ema().cosine() ? "cosine" : "const"}, {"neg-weight", cfg.negWeight()}}) {
            opt.accept(kv);
        }
        return a;
    }

    /** The median over rounds of ours / official, each round's pair measured one after the other. */
    static double medianRatio(double[] ours, double[] official) {
        double[] r = ratios(ours, official);
        Arrays.sort(r);
        int n = r.length;
        return n % 2 == 1 ? r[n / 2] : (r[n / 2 - 1] + r[n / 2]) / 2;
    }

    static double[] ratios(double[] ours, double[] official) {
        if (ours.length != official.length || ours.length == 0) {
            throw new IllegalArgumentException("rounds differ: " + ours.length + " against " + official.length);
        }
        double[] r = new double[ours.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = ours[i] / official[i];
        }
        return r;
    }

    private static String join(double[] v) {
        return Arrays.stream(v).mapToObj(x -> String.format(Locale.ROOT, x >= 100 ? "%.0f" : "%.2f", x))
                .collect(Collectors.joining(", "));
    }

    /** The JSON lines a script printed; a failure ends the bench with the script's last lines. */
    private static List<String> jsonLines(List<String> cmd) throws IOException {
        Run r = run(cmd);
        List<String> json = r.lines.stream().filter(l -> l.startsWith("{")).toList();
        if (r.exit != 0 || json.isEmpty()) {
            List<String> tail = r.lines.subList(Math.max(0, r.lines.size() - 8), r.lines.size());
            throw new IllegalStateException("the official side failed (exit " + r.exit + "): " + String.join(" ", cmd)
                    + "\n" + String.join("\n", tail));
        }
        return json;
    }

    private record Run(int exit, List<String> lines) {}

    private static Run run(List<String> cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try (InputStream in = p.getInputStream()) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return new Run(p.waitFor(), text.lines().toList());
        } catch (InterruptedException e) {
            p.destroy();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** A script of docs/bench from this module's classpath, copied to a file Python can run. */
    private static Path script(String name) throws IOException {
        try (InputStream in = OfficialBaseline.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("docs/bench/" + name + " is not on the classpath (rebuild spark-jobs)");
            }
            Path dir = Files.createTempDirectory("siameseim-bench-");
            dir.toFile().deleteOnExit();
            Path file = dir.resolve(name);
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            file.toFile().deleteOnExit();
            return file;
        }
    }
}
