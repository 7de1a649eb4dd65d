package siameseim.datasets.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import siameseim.config.PretrainConfig;
import siameseim.datasets.augment.ColorOps;
import siameseim.datasets.augment.TwoViewAugmenter;
import siameseim.datasets.decode.BadImageException;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.image.RgbImage;
import siameseim.datasets.loader.DecodedCache;
import siameseim.datasets.synthetic.SyntheticShapes;

/**
 * Single-thread throughput of the data path of one replica: JPEG decode, decode + the SiameseIM
 * two-view augmentation, and the augmentation of pixels from the decoded-image cache, on JPEGs
 * encoded from rendered images of a given size, in colour or grey (the rendered images'
 * luma: three equal planes, as a Fashion-MNIST or scan dataset gives).
 */
public final class DataBenchmark {
    private DataBenchmark() {}

    /**
     * Images per second on one core; and decode + augmentation per second of the process's CPU time (every
     * thread of the JVM: its garbage collector and compiler too), which a machine shared with other work
     * disturbs less than the wall clock.
     */
    public record Result(String decoder, int sourceSize, boolean grey, int outputSize, double decodePerSecond,
            double decodeAugmentPerSecond, double cachedAugmentPerSecond, double averageJpegKb,
            double decodeAugmentPerCpuSecond) {
        public String line() {
            return String.format(Locale.ROOT, "%-8s %4d px %-6s JPEG (%5.1f KB) -> %3d px views: decode %7.1f img/s,"
                    + " decode + two-view augmentation %7.1f img/s (%7.1f per CPU second), from the decoded-image cache"
                    + " %7.1f img/s (one core)", decoder, sourceSize, grey ? "grey" : "colour", averageJpegKb,
                    outputSize, decodePerSecond, decodeAugmentPerSecond, decodeAugmentPerCpuSecond,
                    cachedAugmentPerSecond);
        }
    }

    public static Result run(ImageDecoder decoder, PretrainConfig cfg, int sourceWidth, int sourceHeight, boolean grey,
            double seconds) throws BadImageException {
        List<byte[]> jpegs = jpegs(decoder, sourceWidth, sourceHeight, grey);
        double bytes = 0;
        for (byte[] j : jpegs) {
            bytes += j.length;
        }
        TwoViewAugmenter aug = new TwoViewAugmenter(cfg);
        SplittableRandom rng = new SplittableRandom(3);
        long limit = Long.MAX_VALUE;
        // warm up the JIT and native libraries
        for (int i = 0; i < 20; i++) {
            aug.apply(decoder.decode(jpegs.get(i % jpegs.size()), limit).image(), rng);
        }
        double decodeRate = rate(seconds, i -> decoder.decode(jpegs.get(i % jpegs.size()), limit));
        double[] full = rates(seconds, i -> aug.apply(decoder.decode(jpegs.get(i % jpegs.size()), limit).image(), rng));
        // later epochs of a dataset whose pixels fit in memory (data.decoded-cache-mb)
        DecodedCache cache = new DecodedCache(1L << 30, jpegs.size());
        for (int i = 0; i < jpegs.size(); i++) {
            cache.put(i, decoder.decode(jpegs.get(i), limit).image());
        }
        double cachedRate = rate(seconds, i -> aug.apply(cache.get(i % jpegs.size()), rng));
        return new Result(decoder.name(), Math.max(sourceWidth, sourceHeight), grey, cfg.model().imageSize(), decodeRate,
                full[0], cachedRate, bytes / jpegs.size() / 1024, full[1]);
    }

    /**
     * The benchmark's 16 JPEGs (quality 90, encoded by {@code decoder}) of rendered images of the given size,
     * in colour or grey; the official side of {@code bench --official} decodes the same files.
     */
    public static List<byte[]> jpegs(ImageDecoder decoder, int sourceWidth, int sourceHeight, boolean grey) {
        SyntheticShapes gen = new SyntheticShapes(Math.max(sourceWidth, sourceHeight), 1);
        List<byte[]> jpegs = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            RgbImage img = crop(gen.render(i % 10, i), sourceWidth, sourceHeight);
            if (grey) {
                ColorOps.grayscale(img);
            }
            jpegs.add(decoder.encodeJpeg(img, 90));
        }
        return jpegs;
    }

    private interface Work {
        void run(int i) throws BadImageException;
    }

    private static double rate(double seconds, Work w) throws BadImageException {
        return rates(seconds, w)[0];
    }

    /** Runs per second of the wall clock and per second of the process's CPU time. */
    private static double[] rates(double seconds, Work w) throws BadImageException {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpu = os.getProcessCpuTime();
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        int n = 0;
        while (System.nanoTime() < end) {
            w.run(n++);
        }
        long wall = System.nanoTime() - start;
        return new double[] {n / (wall / 1e9), n / ((os.getProcessCpuTime() - cpu) / 1e9)};
    }

    private static RgbImage crop(RgbImage img, int w, int h) {
        if (img.width() == w && img.height() == h) {
            return img;
        }
        RgbImage out = new RgbImage(w, h);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                System.arraycopy(img.data(), (c * img.height() + y) * img.width(), out.data(), (c * h + y) * w, w);
            }
        }
        return out;
    }
}
