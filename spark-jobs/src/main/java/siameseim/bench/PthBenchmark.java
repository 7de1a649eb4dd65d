package siameseim.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import siameseim.model.io.WeightsFile;

/**
 * Loading a torch.save file: every floating-point tensor in it (state dict and optimizer
 * moments) into float32 arrays through {@link WeightsFile} (the reader {@code --weights} uses),
 * against {@code torch.load(f, map_location='cpu')} of the same file in a Python with PyTorch,
 * side by side: the rounds alternate (ours, then torch.load in a child process that stays up), so
 * that both see the same load on a shared machine; the best round of each counts, after one
 * warm-up round each (the file in the page cache for both), and the warm-up round is reported
 * too: the first load in a process, into memory the process has not used yet. Ours reads the
 * storages on up to 4 threads ({@code TorchZip.READ_THREADS}, at most the cores); torch.load reads
 * them one at a time.
 */
public final class PthBenchmark {
    private PthBenchmark() {}

    private static final String TORCH_LOOP = "import sys, time, torch\n"
            + "torch.set_num_threads(1)\n"
            + "for line in sys.stdin:\n"
            + "    t = time.perf_counter(); sd = torch.load(line.strip(), map_location='cpu')\n"
            + "    print(time.perf_counter() - t, flush=True); del sd\n";

    public static void run(List<String> files, String python, int rounds, Consumer<String> out) throws Exception {
        Process torch = python == null ? null
                : new ProcessBuilder(python, "-c", TORCH_LOOP).redirectErrorStream(true).start();
        try (BufferedReader fromTorch = torch == null ? null : new BufferedReader(new InputStreamReader(
                torch.getInputStream(), StandardCharsets.UTF_8));
                java.io.PrintWriter toTorch = torch == null ? null : new java.io.PrintWriter(torch.getOutputStream(),
                        true, StandardCharsets.UTF_8)) {
            Configuration conf = new Configuration(); // a job's, made once (reading its defaults costs ~0.1 s)
            conf.get("fs.defaultFS");
            for (String f : files) {
                long bytes = new java.io.File(f).length();
                double ours = Double.MAX_VALUE;
                double theirs = Double.MAX_VALUE;
                double oursFirst = 0;
                double theirsFirst = 0;
                int tensors = 0;
                for (int r = 0; r <= rounds; r++) { // round 0 warms the page cache and the JIT
                    try (NDManager m = NDManager.newBaseManager()) {
                        long t0 = System.nanoTime();
                        Map<String, NDArray> all;
                        try (WeightsFile w = WeightsFile.open(f, conf)) {
                            all = w.torch().readAll(m);
                        }
                        double s = (System.nanoTime() - t0) / 1e9;
                        tensors = all.size();
                        if (r > 0) {
                            ours = Math.min(ours, s);
                        } else {
                            oursFirst = s;
                        }
                    }
                    if (torch != null) {
                        toTorch.println(f);
                        String line = fromTorch.readLine();
                        double t;
                        try {
                            t = Double.parseDouble(line == null ? "" : line.trim());
                        } catch (NumberFormatException e) {
                            throw new IOException(python + " could not torch.load " + f + ": " + line);
                        }
                        if (r > 0) {
                            theirs = Math.min(theirs, t);
                        } else {
                            theirsFirst = t;
                        }
                    }
                }
                out.accept(String.format(Locale.ROOT, "[bench pth] %s (%.0f MB, %d tensors), best of %d rounds:"
                        + " WeightsFile %.3f s (%.0f MB/s)", f, bytes / 1e6, tensors, rounds, ours, bytes / 1e6 / ours)
                        + (torch == null ? "" : String.format(Locale.ROOT, ", torch.load %.3f s (%.0f MB/s): %.2fx"
                                + " torch.load's speed; the warm-up round (memory the process has not used yet; ours"
                                + " also loads classes and compiles on its first file): %.3f s vs %.3f s, %.2fx", theirs,
                                bytes / 1e6 / theirs, theirs / ours, oursFirst, theirsFirst, theirsFirst / oursFirst)));
            }
        } finally {
            if (torch != null) {
                torch.destroy();
            }
        }
    }
}
