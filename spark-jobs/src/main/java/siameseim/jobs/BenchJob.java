package siameseim.jobs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import siameseim.bench.OfficialBaseline;
import siameseim.bench.ScalingBenchmark;
import siameseim.collective.AllReduceBenchmark;
import siameseim.config.ConfigLoader;
import siameseim.config.PretrainConfig;
import siameseim.datasets.bench.DataBenchmark;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.model.nn.Torch;
import siameseim.train.StepBenchmark;

/**
 * Training-step throughput of one replica (forward, loss, backward, clipping, AdamW, EMA) for the
 * demo config and for ViT-Tiny/16 at 224 px, with the analytic FLOP rate next to the machine's
 * measured SGEMM rate. Numbers only; nothing is asserted. With {@code --official} the official implementation
 * runs beside ours in the same run, alternately (docs/distributed.md, "Throughput and scaling").
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
        return "[--threads N (2)] [--steps N (10; scaling: 120)] [--warmup N (scaling: 40)]"
                + " [--rounds N (scaling: 3; --official: 2; pth: 10)] [--only demo|tiny|data|order|allreduce|scaling|embed|pth]"
                + " [--official DIR (the official code's checkout, run beside ours: demo, tiny, data; allreduce: PyTorch Gloo)]"
                + " [--python PATH (/usr/bin/python3, with PyTorch)] [--file F.pth,G.pth (pth: torch.load beside ours)]";
    }

    /** The ViT-Tiny/16 SiameseIM config of the benchmark (decoder width = encoder width). */
    static List<String> tinyOverrides(int threads) {
        return List.of("model.encoder.width=192", "model.encoder.heads=3", "model.decoder.width=192",
                "model.decoder.heads=3", "optim.batch-size=16", "train.threads=" + threads);
    }

    @Override
    public int run(JobArgs a) throws Exception {
        a.allowOnly("threads", "steps", "only", "output", "rounds", "warmup", "official", "python", "file");
        int threads = a.intOption("threads", 2);
        int steps = a.intOption("steps", 10);
        String only = a.option("only", "all");
        int rounds = a.intOption("rounds", 2);
        if (rounds < 1) {
            throw new JobArgs.UsageError("--rounds must be at least 1, got " + rounds);
        }
        Optional<OfficialBaseline> official = a.option("official", null) == null ? Optional.empty()
                : OfficialBaseline.find(a.option("python", "/usr/bin/python3"), System.out::println);
        if (only.equals("scaling")) {
            ScalingBenchmark.run(new ScalingBenchmark.Options(a.option("output", "runs/bench"),
                    a.intOption("steps", 120), a.intOption("warmup", 40), a.intOption("rounds", 3), a.confFile(null),
                    a.overrides()), System.out::println);
            return 0;
        }
        if (only.equals("embed")) {
            siameseim.bench.EmbedBenchmark.run(threads, System.out::println);
            return 0;
        }
        if (only.equals("pth")) { // loading torch.save files against torch.load, side by side
            String files = a.option("file", null);
            if (files == null) {
                throw new JobArgs.UsageError("--only pth needs --file F.pth[,G.pth] (make ViT-B-sized ones with"
                        + " model/src/test/resources/torch/make_vit_b.py)");
            }
            siameseim.model.nn.Torch.init(threads);
            siameseim.bench.PthBenchmark.run(List.of(files.split(",")), a.option("python", null),
                    a.intOption("rounds", 10), System.out::println);
            return 0;
        }
        if (only.equals("order")) {
            siameseim.datasets.bench.OrderBenchmark.run(new int[] {1, 2, 4, 8, 16, 32, 64, 256})
                    .forEach(System.out::println);
            return 0;
        }
        if (only.equals("all") || only.equals("allreduce")) {
            if (official.isPresent()) {
                official.get().compareAllReduce(new int[] {1, 256}, 7, rounds);
            } else {
                // same host: shared memory; then the TCP ring that ranks on different hosts use
                for (boolean shm : new boolean[] {true, false}) {
                    for (AllReduceBenchmark.Result r : AllReduceBenchmark.run(2, new int[] {1, 4, 16, 64, 256}, 7,
                            shm)) {
                        System.out.println(r.line());
                    }
                }
            }
            if (only.equals("allreduce")) {
                return 0;
            }
        }
        if (only.equals("all") || only.equals("data")) {
            if (official.isPresent()) {
                // the recipe's views (ViT-B/16, 224 px) from the benchmark's 500 x 375 JPEGs
                official.get().compareData(officialCode(a), ImageDecoder.named("opencv"),
                        ConfigLoader.loadPretrain("pretrain-vit-b16.conf", List.of()), 500, 375, 4, rounds);
            } else {
                dataBenchmark(a);
            }
            if (only.equals("data")) {
                return 0;
            }
        }
        Path officialCode = official.isPresent() ? officialCode(a) : null;
        Torch.init(threads);
        double sgemm = StepBenchmark.sgemmGflops();
        System.out.printf(Locale.ROOT, "SGEMM 1024^3 with %d threads: %.1f GFLOP/s%n", threads, sgemm);
        List<StepCase> cases = new ArrayList<>();
        if (!only.equals("tiny")) {
            List<String> demo = new ArrayList<>(a.overrides());
            demo.add("train.threads=" + threads);
            PretrainConfig cfg = ConfigLoader.loadPretrain(a.confFile("pretrain-demo.conf"), demo);
            cases.add(new StepCase("demo 32px D64 (batch " + cfg.optim().batchSize() + ")", cfg, 3, steps));
        }
        if (!only.equals("demo")) {
            cases.add(new StepCase("ViT-Tiny/16 224px (batch 16)", ConfigLoader.loadPretrain(null,
                    tinyOverrides(threads)), 2, Math.max(3, steps / 2)));
        }
        List<StepBenchmark.Result> results = new ArrayList<>();
        for (StepCase c : cases) {
            if (official.isPresent()) {
                official.get().compareStep(officialCode, c.name(), c.cfg(), threads, c.warmup(), c.steps(), rounds,
                        sgemm);
            } else {
                results.add(StepBenchmark.run(c.name(), c.cfg(), c.warmup(), c.steps()));
                System.out.println(results.get(results.size() - 1).line());
            }
        }
        for (StepBenchmark.Result r : results) {
            System.out.printf(Locale.ROOT, "%s: %.0f%% of the measured SGEMM rate%n", r.name(),
                    100 * r.gflopPerSecond() / sgemm);
        }
        return 0;
    }

    private record StepCase(String name, PretrainConfig cfg, int warmup, int steps) {}

    /** --official DIR of the step comparisons: a checkout of the official code. */
    private static Path officialCode(JobArgs a) {
        Path dir = Path.of(a.option("official", ""));
        if (!Files.isRegularFile(dir.resolve("models_sim.py"))) {
            throw new JobArgs.UsageError("--official names the official code's folder for the training step "
                    + "(a checkout of OpenGVLab/Siamese-Image-Modeling); " + dir.toAbsolutePath() + " has no models_sim.py");
        }
        return dir;
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
}
