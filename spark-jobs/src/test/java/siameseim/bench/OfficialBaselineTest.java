package siameseim.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import siameseim.config.ConfigLoader;
import siameseim.config.PretrainConfig;

class OfficialBaselineTest {

    @Test
    void readsTheLinesTheScriptsPrint() {
        // as docs/bench/official_step.py and gloo_allreduce.py print them (Debian's torch 1.13, this machine)
        OfficialBaseline.Step s = OfficialBaseline.Step.parse("{\"name\": \"demo\", \"batch\": 128, \"ms_per_step\": "
                + "9516.47, \"min_ms\": 9004.22, \"max_ms\": 11163.79, \"images_per_s\": 13.45, \"sgemm_gflops\": 38.6,"
                + " \"torch\": \"1.13.0a0\", \"blas\": \"/usr/lib/x86_64-linux-gnu/blas/libblas.so.3\", \"threads\": 2,"
                + " \"loss\": 1.955691}");
        assertEquals(new OfficialBaseline.Step(9516.47, 13.45, 38.6, "1.13.0a0",
                "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3"), s);
        assertEquals(new OfficialBaseline.Gloo(16, 20.255, 0.771), OfficialBaseline.Gloo.parse(
                "{\"mib\": 16, \"ms\": 20.255, \"bus_gib_s\": 0.771, \"processes\": 2, \"torch\": \"1.13.0a0\"}"));
    }

    @Test
    void theRatioPairsEachRoundsTwoMeasurements() {
        // round 2 ran while the machine was twice as busy for both sides: its ratio is still 2
        assertEquals(2.0, OfficialBaseline.medianRatio(new double[] {400, 200}, new double[] {200, 100}), 1e-12);
        // rounds with ratios 4 and 1: 2.5, where the ratio of the medians (300 / 150) would say 2
        assertEquals(2.5, OfficialBaseline.medianRatio(new double[] {400, 200}, new double[] {100, 200}), 1e-12);
        assertEquals(6.0, OfficialBaseline.medianRatio(new double[] {300, 600, 90}, new double[] {100, 100, 10}),
                1e-12);
        assertThrows(IllegalArgumentException.class,
                () -> OfficialBaseline.medianRatio(new double[] {1, 2}, new double[] {1}));
    }

    @Test
    void theOfficialStepGetsTheConfigOurStepRuns() throws IOException {
        PretrainConfig demo = ConfigLoader.loadPretrain("pretrain-demo.conf", List.of("train.threads=2"));
        List<String> args = OfficialBaseline.stepArguments(demo, 2, 3, 10);
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i < args.size(); i += 2) {
            opts.put(args.get(i), args.get(i + 1));
        }
        Map<String, String> expect = new LinkedHashMap<>();
        String[] kv = {"--image", "32", "--patch", "4", "--width", "64", "--depth", "4", "--heads", "4",
            "--decoder-width", "64", "--decoder-heads", "4", "--projector-depth", "1", "--predictor-depth", "2",
            "--decoder-norm", "batch", "--mask", "38", "--batch", "128", "--lr", "0.001", "--ema", "0.98",
            "--ema-schedule", "cosine", "--clip-grad", "1.0", "--weight-decay", "0.05", "--beta2", "0.95",
            "--neg-weight", "0.02", "--threads", "2", "--warmup", "3", "--steps", "10"};
        for (int i = 0; i < kv.length; i += 2) {
            expect.put(kv[i], kv[i + 1]);
        }
        for (Map.Entry<String, String> e : expect.entrySet()) {
            assertEquals(e.getValue(), opts.get(e.getKey()), e.getKey());
        }
        // every option the bench passes is one the script declares (explicitly or through its presets)
        String script;
        try (InputStream in = OfficialBaseline.class.getResourceAsStream("official_step.py")) {
            script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        for (String o : opts.keySet()) {
            String key = o.substring(2);
            assertTrue(script.contains("\"" + o + "\"") || script.contains(key.replace('-', '_') + "="),
                    o + " is not an option of official_step.py");
        }
    }

    @Test
    void aMissingPythonOrTorchSkipsTheOfficialSideInOneLine() {
        List<String> out = new ArrayList<>();
        assertTrue(OfficialBaseline.find("/nonexistent/python3", out::add).isEmpty());
        assertTrue(OfficialBaseline.find("false", out::add).isEmpty()); // runs, but `import torch` fails
        assertEquals(2, out.size(), String.join("\n", out));
        assertTrue(out.get(0).startsWith("bench: the official side is skipped: cannot run /nonexistent/python3"),
                out.get(0));
        assertTrue(out.get(1).startsWith("bench: the official side is skipped: false has no PyTorch (exit 1"),
                out.get(1));
    }
}
