package siameseim.datasets.prepare;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * Labels of flat validation images, by file name: prepare.val-ground-truth ({@code <file name>
 * <wnid>} lines, spaces or commas), or Kaggle's ImageNet {@code LOC_val_solution.csv}
 * ({@code ImageId,PredictionString}: the first word of the prediction string is the wnid).
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
