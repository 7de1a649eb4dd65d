package siameseim.datasets.prepare;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * Labels of flat validation images, by file name: prepare.val-ground-truth ({@code <file name>
 * <wnid>} lines, spaces or commas), Kaggle's ImageNet {@code LOC_val_solution.csv}
 * ({@code ImageId,PredictionString}: the first word of the prediction string is the wnid), or
 * ImageNet's devkit ({@code ILSVRC2012_devkit_t12.tar.gz}).
 */
public final class GroundTruth {
    private GroundTruth() {}

    /** A ground-truth file of "name wnid" lines; every wnid must be one of {@code classes}. */
    public static Map<String, String> read(Configuration conf, Path file, Collection<String> classes)
            throws IOException {
        Map<String, String> labels = new HashMap<>();
        try (BufferedReader r = open(conf, file)) {
            String line;
            int n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                line = line.trim();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                String[] parts = line.split("[\\s,]+");
                if (parts.length < 2) {
                    throw new IOException(file + " line " + n + ": expected '<file name> <wnid>', got '" + line + "'");
                }
                labels.put(parts[0], check(file, n, parts[1], classes));
            }
        }
        return labels;
    }

    /** Kaggle's LOC_val_solution.csv, keyed by file name ({@code <ImageId>.JPEG}). */
    public static Map<String, String> kaggle(Configuration conf, Path csv, Collection<String> classes)
            throws IOException {
        Map<String, String> labels = new HashMap<>();
        try (BufferedReader r = open(conf, csv)) {
            String header = r.readLine();
            if (header == null || !header.trim().startsWith("ImageId,PredictionString")) {
                throw new IOException(csv + ": expected the header 'ImageId,PredictionString', got '" + header + "'");
            }
            String line;
            int n = 1;
            while ((line = r.readLine()) != null) {
                n++;
                if (line.isBlank()) {
                    continue;
                }
                int comma = line.indexOf(',');
                String[] words = comma < 0 ? new String[0] : line.substring(comma + 1).trim().split("\\s+");
                if (comma <= 0 || words.length == 0 || words[0].isEmpty()) {
                    throw new IOException(csv + " line " + n + ": expected 'ImageId,<wnid> x y x y ...', got '"
                            + line + "'");
                }
                labels.put(line.substring(0, comma).trim() + ".JPEG", check(csv, n, words[0], classes));
            }
        }
        return labels;
    }

    /**
     * The devkit's validation labels, as {@code torchvision.datasets.ImageNet} reads them: line i of
     * {@code data/ILSVRC2012_validation_ground_truth.txt} is the ILSVRC2012_ID of
     * {@code ILSVRC2012_val_<i, 8 digits>.JPEG}, and the struct array {@code synsets} of
     * {@code data/meta.mat} maps each ID to its WNID.
     */
    public static Map<String, String> devkit(Configuration conf, Path tarGz, Collection<String> classes)
            throws IOException {
        byte[] meta = null;
        byte[] ids = null;
        try (var raw = tarGz.getFileSystem(conf).open(tarGz);
                var in = new org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream(raw)) {
            siameseim.datasets.prepare.tar.TarMembers members = new siameseim.datasets.prepare.tar.TarMembers(in);
            siameseim.datasets.prepare.tar.TarMembers.Member m;
            while ((m = members.next()) != null) {
                if (m.name().endsWith("data/meta.mat")) {
                    meta = m.bytes();
                } else if (m.name().endsWith("data/ILSVRC2012_validation_ground_truth.txt")) {
                    ids = m.bytes();
                }
            }
            if (members.cutShort() != null && (meta == null || ids == null)) {
                throw new IOException(tarGz + ": " + members.cutShort());
            }
        }
        if (meta == null || ids == null) {
            throw new IOException(tarGz + " has no " + (meta == null ? "data/meta.mat" : "")
                    + (meta == null && ids == null ? " or " : "")
                    + (ids == null ? "data/ILSVRC2012_validation_ground_truth.txt" : "") + " (is it the devkit?)");
        }
        Object synsets = MatFile.read(meta, tarGz + "!data/meta.mat").get("synsets");
        if (!(synsets instanceof List<?> list)) {
            throw new IOException(tarGz + "!data/meta.mat has no struct array 'synsets'");
        }
        Map<Integer, String> wnids = new HashMap<>();
        for (Object o : list) {
            Map<?, ?> s = (Map<?, ?>) o;
            if (s.get("ILSVRC2012_ID") instanceof double[] id && id.length == 1 && s.get("WNID") instanceof String w) {
                wnids.put((int) id[0], w);
            }
        }
        Map<String, String> labels = new HashMap<>();
        String[] lines = new String(ids, StandardCharsets.US_ASCII).split("\\R");
        int n = 0;
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            n++;
            String wnid = wnids.get(Integer.parseInt(line.trim()));
            if (wnid == null) {
                throw new IOException(tarGz + "!data/ILSVRC2012_validation_ground_truth.txt line " + n + ": ID "
                        + line.trim() + " is not in meta.mat's synsets");
            }
            labels.put(String.format(java.util.Locale.ROOT, "ILSVRC2012_val_%08d.JPEG", n),
                    check(tarGz, n, wnid, classes));
        }
        return labels;
    }

    private static String check(Path file, int line, String wnid, Collection<String> classes) throws IOException {
        if (!classes.contains(wnid)) {
            throw new IOException(file + " line " + line + ": wnid " + wnid + " is not a class of the training set");
        }
        return wnid;
    }

    private static BufferedReader open(Configuration conf, Path file) throws IOException {
        return new BufferedReader(new InputStreamReader(file.getFileSystem(conf).open(file), StandardCharsets.UTF_8));
    }
}
