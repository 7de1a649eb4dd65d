package siameseim.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import siameseim.model.io.WeightsFile;

/**
 * Loading a torch.save file: every floating-point tensor in it (state dict and optimizer
 * moments) into float32 arrays through {@link WeightsFile} (the reader {@code --weights} uses),
 * against {@code torch.load(f, map_location='cpu')} of the same file by a Python with PyTorch,
 * side by side, best of {@code rounds} each, the file in the page cache for both (one warm-up
 * load first).
 */
public final class PthBenchmark {
    private PthBenchmark() {}

    public static void run(List<String> files, String python, int rounds, Consumer<String> out) throws Exception {
        for (String f : files) {
            long bytes = new java.io.File(f).length();
            double java = Double.MAX_VALUE;
            int tensors = 0;
            for (int r = 0; r <= rounds; r++) { // round 0 warms the page cache and the JIT
                try (NDManager m = NDManager.newBaseManager()) {
                    long t0 = System.nanoTime();
                    Map<String, NDArray> all;
                    try (WeightsFile w = WeightsFile.open(f, new Configuration())) {
                        all = w.torch().readAll(m);
                    }
                    double s = (System.nanoTime() - t0) / 1e9;
                    tensors = all.size();
                    if (r > 0) {
                        java = Math.min(java, s);
                    }
                }
            }
            out.accept(String.format(Locale.ROOT, "[bench pth] %s (%.0f MB): WeightsFile %.3f s (%.0f MB/s, %d tensors)",
                    f, bytes / 1e6, java, bytes / 1e6 / java, tensors));
            if (python != null) {
                double torch = torchLoad(python, f, rounds);
                out.accept(String.format(Locale.ROOT, "[bench pth] %s: torch.load %.3f s (%.0f MB/s); WeightsFile is"
                        + " %.2fx torch.load's speed", f, torch, bytes / 1e6 / torch, torch / java));
            }
        }
    }

    /** The best of {@code rounds} timings of torch.load in a child Python process (after one warm-up). */
    static double torchLoad(String python, String file, int rounds) throws IOException, InterruptedException {
        String script = "import sys, time, torch\n"
                + "torch.set_num_threads(1)\n"
                + "torch.load(sys.argv[1], map_location='cpu')\n"
                + "best = 1e9\n"
                + "for _ in range(int(sys.argv[2])):\n"
                + "    t = time.perf_counter(); sd = torch.load(sys.argv[1], map_location='cpu');"
                + " best = min(best, time.perf_counter() - t); del sd\n"
                + "print(best)\n";
        Process p = new ProcessBuilder(python, "-c", script, file, Integer.toString(rounds)).redirectErrorStream(true)
                .start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                lines.add(line);
            }
        }
        if (p.waitFor() != 0 || lines.isEmpty()) {
            throw new IOException(python + " could not torch.load " + file + ": " + String.join(" | ", lines));
        }
        return Double.parseDouble(lines.get(lines.size() - 1).trim());
    }
}
