package siameseim.prepare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.config.ConfigLoader;
import siameseim.config.PrepareConfig;
import siameseim.datasets.decode.BadImageException;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.shards.Manifest;
import siameseim.testing.Fixtures;
import siameseim.testing.LocalSpark;

/**
 * Mutated JPEG, PNG and GIF bytes (bit flips, truncation, insertions, deletions, overwritten and
 * duplicated ranges, broken headers) fed to both decoders and to the prepare job: every file
 * either decodes to an image or is refused with a BadImageException and a reason; nothing
 * crashes, nothing hangs, and the prepare job lists every file it skipped.
 */
class DecoderFuzzTest {
    static final String[] SOURCES = {"good.jpg", "cmyk.jpg", "gray.jpg", "png-named.JPEG", "palette.gif"};

    /** One seeded mutation of {@code in}; the kind goes to {@code what}. */
    static byte[] mutate(byte[] in, Random r, StringBuilder what) {
        byte[] b = in.clone();
        int kind = r.nextInt(7);
        int at = r.nextInt(b.length);
        switch (kind) {
            case 0 -> {
                int n = 1 + r.nextInt(8);
                for (int i = 0; i < n; i++) {
                    int p = r.nextInt(b.length);
                    b[p] ^= (byte) (1 << r.nextInt(8));
                }
                what.append("flip ").append(n).append(" bits");
            }
            case 1 -> {
                b = Arrays.copyOf(b, at);
                what.append("truncate at ").append(at);
            }
            case 2 -> {
                byte[] ins = new byte[1 + r.nextInt(64)];
                r.nextBytes(ins);
                byte[] o = new byte[b.length + ins.length];
                System.arraycopy(b, 0, o, 0, at);
                System.arraycopy(ins, 0, o, at, ins.length);
                System.arraycopy(b, at, o, at + ins.length, b.length - at);
                b = o;
                what.append("insert ").append(ins.length).append(" bytes at ").append(at);
            }
            case 3 -> {
                int n = Math.min(b.length - at, 1 + r.nextInt(256));
                byte[] o = new byte[b.length - n];
                System.arraycopy(b, 0, o, 0, at);
                System.arraycopy(b, at + n, o, at, b.length - at - n);
                b = o;
                what.append("delete ").append(n).append(" bytes at ").append(at);
            }
            case 4 -> {
                int n = Math.min(b.length - at, 1 + r.nextInt(512));
                Arrays.fill(b, at, at + n, r.nextBoolean() ? (byte) 0xFF : 0);
                what.append("overwrite ").append(n).append(" bytes at ").append(at);
            }
            case 5 -> {
                int p = r.nextInt(Math.min(b.length, 300));
                b[p] = (byte) r.nextInt(256);
                if (p + 1 < b.length) {
                    b[p + 1] = (byte) r.nextInt(256);
                }
                what.append("header bytes at ").append(p);
            }
            default -> {
                int n = Math.min(b.length - at, 1 + r.nextInt(1024));
                byte[] o = new byte[b.length + n];
                System.arraycopy(b, 0, o, 0, at + n);
                System.arraycopy(b, at, o, at + n, b.length - at);
                b = o;
                what.append("duplicate ").append(n).append(" bytes at ").append(at);
            }
        }
        return b;
    }

    @Test
    void mutatedFilesDecodeOrAreRefusedWithAReason() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        Map<String, Integer> outcomes = new TreeMap<>();
        try {
            for (String decoderName : List.of("opencv", "imageio")) {
                ImageDecoder decoder = ImageDecoder.named(decoderName);
                Random r = new Random(20261127);
                for (int i = 0; i < 250; i++) {
                    String src = SOURCES[i % SOURCES.length];
                    StringBuilder what = new StringBuilder();
                    byte[] bytes = mutate(Fixtures.resource(src), r, what);
                    String label = decoderName + " " + src + " mutant " + i + " (" + what + ")";
                    Future<String> f = pool.submit(() -> {
                        try {
                            ImageDecoder.Decoded d = decoder.decode(bytes, 50_000_000L);
                            assertTrue(d.image().width() > 0 && d.image().height() > 0, label);
                            return "decoded";
                        } catch (BadImageException e) {
                            assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), label);
                            return "refused: " + e.reason();
                        }
                    });
                    try {
                        outcomes.merge(decoderName + " " + f.get(20, TimeUnit.SECONDS), 1, Integer::sum);
                    } catch (TimeoutException e) {
                        fail(label + " did not finish in 20 s");
                    } catch (java.util.concurrent.ExecutionException e) {
                        throw new AssertionError(label + " failed with " + e.getCause(), e.getCause());
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
        System.out.println("fuzz outcomes: " + outcomes);
        assertTrue(outcomes.keySet().stream().anyMatch(k -> k.contains("refused")), outcomes.toString());
        assertTrue(outcomes.keySet().stream().anyMatch(k -> k.contains("decoded")), outcomes.toString());
    }

    @Test
    void thePrepareJobListsEveryMutantItSkips(@TempDir Path tmp) throws Exception {
        SparkSession spark = LocalSpark.start();
        try {
            Configuration conf = spark.sparkContext().hadoopConfiguration();
            org.apache.hadoop.fs.Path in = new org.apache.hadoop.fs.Path(tmp.resolve("raw").toString());
            String[] classes = Fixtures.classNames(2);
            Random r = new Random(7);
            int files = 0;
            for (int i = 0; i < 80; i++) {
                byte[] b = Fixtures.resource(SOURCES[i % SOURCES.length]);
                byte[] m = i % 4 == 0 ? b : mutate(b, r, new StringBuilder());
                Fixtures.write(conf, new org.apache.hadoop.fs.Path(in, String.format("train/%s/f%03d.JPEG",
                        classes[i % 2], i)), m);
                files++;
            }
            String out = tmp.resolve("prepared").toString();
            DatasetPreparation.Report rep = DatasetPreparation.run(spark, PrepareConfig.from(ConfigLoader.load(null,
                    List.of("prepare.input=" + in, "prepare.output=" + out, "prepare.splits=[train]",
                            "prepare.max-bad-fraction=1.0", "prepare.tasks=2"))));
            Manifest m = rep.manifest();
            long kept = m.split("train").images();
            System.out.printf("prepare over %d files (60 mutated): %d kept, %d skipped: %s%n", files, kept,
                    m.badFiles().size(), DatasetPreparation.countByReason(m));
            assertEquals(files, kept + m.badFiles().size(), "every file is kept or listed");
            assertTrue(kept >= 20, "the 20 unmutated files are kept");
            for (Manifest.BadFile bf : m.badFiles()) {
                assertTrue(bf.path().contains("/f") && !bf.reason().isBlank() && !bf.detail().isBlank(), bf.toString());
            }
        } finally {
            spark.stop();
        }
    }
}
