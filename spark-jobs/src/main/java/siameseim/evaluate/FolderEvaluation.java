package siameseim.evaluate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import siameseim.config.EvalConfig;
import siameseim.datasets.augment.EvalTransform;
import siameseim.datasets.augment.Resampler;
import siameseim.datasets.decode.BadImageException;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.model.nn.Torch;
import siameseim.model.vit.VitClassifier;
import siameseim.spark.SparkSessions;

/**
 * A fine-tuned classifier on a labelled image folder ({@code DIR/<class>/<image>}), the way
 * robustness sets are evaluated: folder names are the model's class names (ImageNet wnids) or are
 * mapped to them by a class-map file; when the folder covers only some of the model's classes
 * (ImageNet-A and -R: 200 of 1000) the prediction is restricted to those classes, as their
 * official evaluation does. Images are decoded and classified in Spark tasks; unreadable files are
 * counted and named, never silently dropped. An ImageNet-C tree
 * ({@code DIR/<corruption>/<severity>/<class>/<image>}) is read in the same job, one Spark stage
 * over all its folders, and summarised as its authors define it ({@link CorruptionErrors}: top-1
 * error per corruption and severity, CE normalised by AlexNet's errors, mCE and 1 - mCE).
 */
public final class FolderEvaluation {
    private FolderEvaluation() {}

    /** The measurement: over all images, per folder group, and ImageNet-C's summary when the tree is one. */
    public record Result(double top1, double top5, long images, List<String> unreadable, int folderClasses,
            int modelClasses, boolean restricted, String weights, String folder, List<Group> groups,
            CorruptionErrors.Summary corruption) {}

    /** One folder of classes: the root itself, or {@code <corruption>/<severity>} of an ImageNet-C tree. */
    public record Group(String name, double top1, double top5, long images) implements Serializable {}

    /** One image to classify, and the group its folder belongs to. */
    record Item(String path, int label, int group) implements Serializable {}

    /** A task's counts, per group. */
    record Counts(long[] top1, long[] top5, long[] images, List<String> unreadable) implements Serializable {}

    /**
     * @param classMap null, or a file of {@code <folder name> <model class name or index>} lines
     * @param restrict restrict predictions to the folder's classes when it has fewer than the model
     */
    public static Result run(SparkSession spark, EvalConfig cfg, String weights, String folder, String classMap,
            boolean restrict) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Classifiers.Description d = Classifiers.describe(weights, cfg.model(), conf);
        try (NDManager check = NDManager.newBaseManager()) { // on the driver: a bad file fails here, before a stage
            Classifiers.load(check, weights, d, conf);
        }
        Path root = new Path(folder);
        FileSystem fs = root.getFileSystem(conf);
        if (!fs.isDirectory(root)) {
            throw new IOException("--images " + folder + " is not a folder (expected " + folder + "/<class>/<image>)");
        }
        // ImageNet-C: <corruption>/<severity 1-5>/<class>/<image>, every folder scored in the same job
        Map<String, Path> groupDirs = new TreeMap<>();
        boolean corruptions = true;
        for (FileStatus c : fs.listStatus(root)) {
            if (!c.isDirectory() || c.getPath().getName().startsWith(".")) {
                continue;
            }
            FileStatus[] sev = fs.listStatus(c.getPath());
            boolean severities = sev.length > 0;
            for (FileStatus x : sev) {
                severities &= x.isDirectory() && x.getPath().getName().matches("[1-5]");
            }
            corruptions &= severities;
            for (FileStatus x : sev) {
                groupDirs.put(c.getPath().getName() + "/" + x.getPath().getName(), x.getPath());
            }
        }
        if (!corruptions || groupDirs.isEmpty()) {
            groupDirs = new TreeMap<>(Map.of("", root));
        }
        List<String> groupNames = new ArrayList<>(groupDirs.keySet());
        List<Map<String, List<String>>> byGroup = new ArrayList<>();
        java.util.Set<String> classNames = new java.util.TreeSet<>();
        for (Path dir : groupDirs.values()) {
            Map<String, List<String>> byClass = new TreeMap<>();
            for (FileStatus c : fs.listStatus(dir)) {
                if (c.isDirectory() && !c.getPath().getName().startsWith(".")) {
                    List<String> files = new ArrayList<>();
                    for (FileStatus f : fs.listStatus(c.getPath())) {
                        if (f.isFile() && !f.getPath().getName().startsWith(".")) {
                            files.add(fs.makeQualified(f.getPath()).toString());
                        }
                    }
                    files.sort(null);
                    byClass.put(c.getPath().getName(), files);
                }
            }
            byGroup.add(byClass);
            classNames.addAll(byClass.keySet());
        }
        if (classNames.isEmpty()) {
            throw new IOException(folder + " has no class folders (expected " + folder + "/<class>/<image>, or"
                    + " ImageNet-C's " + folder + "/<corruption>/<severity>/<class>/<image>)");
        }
        Map<String, String> mapping = classMap == null ? Map.of() : readClassMap(conf, classMap);
        Map<String, Integer> target = resolve(classNames, mapping, d, classMap);
        List<Item> items = new ArrayList<>();
        for (int g = 0; g < byGroup.size(); g++) {
            int group = g;
            byGroup.get(g).forEach((cls, files) -> files.forEach(f -> items.add(new Item(f, target.get(cls), group))));
        }
        if (items.isEmpty()) {
            throw new IOException(folder + " has class folders but no images");
        }
        boolean[] allowed = new boolean[d.classes()];
        target.values().forEach(i -> allowed[i] = true);
        boolean restricted = restrict && target.values().stream().distinct().count() < d.classes();
        if (!restricted) {
            java.util.Arrays.fill(allowed, true);
        }
        String qualified = fs.makeQualified(new Path(weights)).toString();
        Map<String, String> hadoop = SparkSessions.hadoopConf(spark);
        int size = d.model().imageSize();
        double[] mean = cfg.augment().mean();
        double[] std = cfg.augment().std();
        int batch = cfg.batchSize();
        String decoderName = cfg.decoder();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int slices = (int) Math.max(jsc.defaultParallelism(), Math.min(10_000, items.size() / 512));
        jsc.setJobGroup("siameseim-evaluate", "evaluate " + weights + " on " + folder, false);
        int groups = groupNames.size();
        List<Counts> parts = jsc.parallelize(items, slices).mapPartitions((Iterator<Item> it) -> {
            Configuration hc = SparkSessions.rebuild(hadoop);
            VitClassifier model = Classifiers.cached(qualified, d, hc);
            return List.of(classify(model, it, hc, new EvalTransform(size, Resampler.Filter.BICUBIC, mean, std),
                    ImageDecoder.named(decoderName), batch, allowed, groups)).iterator();
        }).collect();
        jsc.clearJobGroup();
        long[] top1 = new long[groups];
        long[] top5 = new long[groups];
        long[] count = new long[groups];
        List<String> bad = new ArrayList<>();
        for (Counts c : parts) {
            for (int g = 0; g < groups; g++) {
                top1[g] += c.top1()[g];
                top5[g] += c.top5()[g];
                count[g] += c.images()[g];
            }
            bad.addAll(c.unreadable());
        }
        long n = java.util.Arrays.stream(count).sum();
        if (n == 0) {
            throw new IOException("no image of " + folder + " could be read; e.g. " + bad.subList(0, Math.min(3,
                    bad.size())));
        }
        List<Group> perGroup = new ArrayList<>();
        Map<String, Map<Integer, Double>> errors = new TreeMap<>();
        for (int g = 0; g < groups; g++) {
            double t1 = count[g] == 0 ? Double.NaN : top1[g] / (double) count[g];
            perGroup.add(new Group(groupNames.get(g), t1, count[g] == 0 ? Double.NaN : top5[g] / (double) count[g],
                    count[g]));
            if (corruptions) {
                String[] cs = groupNames.get(g).split("/");
                errors.computeIfAbsent(cs[0], k -> new TreeMap<>()).put(Integer.parseInt(cs[1]), 1 - t1);
            }
        }
        CorruptionErrors.Summary summary = corruptions ? CorruptionErrors.summarise(errors) : null;
        return new Result(java.util.Arrays.stream(top1).sum() / (double) n, java.util.Arrays.stream(top5).sum()
                / (double) n, n, bad, classNames.size(), d.classes(), restricted, weights, folder, perGroup, summary);
    }

    static Counts classify(VitClassifier model, Iterator<Item> it, Configuration conf, EvalTransform tf,
            ImageDecoder decoder, int batch, boolean[] allowed, int groups) throws IOException {
        Torch.init();
        Torch.disableGradOnThisThread();
        int size = tf.size();
        int pixels = 3 * size * size;
        float[] images = new float[batch * pixels];
        int[] labels = new int[batch];
        int[] group = new int[batch];
        long[][] hits = new long[3][groups];
        List<String> bad = new ArrayList<>();
        int k = 0;
        try (NDManager m = NDManager.newBaseManager()) {
            while (it.hasNext()) {
                Item item = it.next();
                Path p = new Path(item.path());
                byte[] bytes;
                try (InputStream in = p.getFileSystem(conf).open(p)) {
                    bytes = in.readAllBytes();
                }
                try {
                    tf.apply(decoder.decode(bytes, Long.MAX_VALUE).image(), images, k * pixels);
                } catch (BadImageException | RuntimeException e) {
                    bad.add(item.path() + ": " + e.getMessage());
                    continue;
                }
                group[k] = item.group();
                labels[k++] = item.label();
                if (k == batch) {
                    score(model, m, images, labels, group, k, size, allowed, hits);
                    k = 0;
                }
            }
            if (k > 0) {
                score(model, m, images, labels, group, k, size, allowed, hits);
            }
        }
        return new Counts(hits[0], hits[1], hits[2], bad);
    }

    private static void score(VitClassifier model, NDManager m, float[] images, int[] labels, int[] group, int n,
            int size, boolean[] allowed, long[][] hits) {
        try (NDManager sm = m.newSubManager()) {
            NDArray x = sm.create(java.util.Arrays.copyOf(images, n * 3 * size * size), new Shape(n, 3, size, size));
            float[] logits = model.forward(x, false).toFloatArray();
            int c = allowed.length;
            for (int i = 0; i < n; i++) {
                int rank = rankOfLabel(logits, i * c, c, labels[i], allowed);
                hits[0][group[i]] += rank == 0 ? 1 : 0;
                hits[1][group[i]] += rank < 5 ? 1 : 0;
                hits[2][group[i]]++;
            }
        }
    }

    /** How many allowed classes score above the label (ties count against it): 0 is a top-1 hit. */
    static int rankOfLabel(float[] logits, int offset, int classes, int label, boolean[] allowed) {
        float own = logits[offset + label];
        int above = 0;
        for (int j = 0; j < classes; j++) {
            if (j != label && allowed[j] && logits[offset + j] >= own) {
                above++;
            }
        }
        return above;
    }

    /** Folder name to model class index; every problem is listed at once. */
    static Map<String, Integer> resolve(Iterable<String> folders, Map<String, String> mapping,
            Classifiers.Description d, String classMap) {
        Map<String, Integer> byName = new LinkedHashMap<>();
        for (int i = 0; i < d.classNames().size(); i++) {
            byName.put(d.classNames().get(i), i);
        }
        Map<String, Integer> out = new LinkedHashMap<>();
        List<String> unknown = new ArrayList<>();
        for (String f : folders) {
            String t = mapping.getOrDefault(f, f);
            Integer idx = byName.get(t);
            if (idx == null && t.matches("\\d+") && Long.parseLong(t) < d.classes()) {
                idx = Integer.parseInt(t);
            }
            if (idx == null) {
                unknown.add(f.equals(t) ? f : f + " -> " + t);
            } else {
                out.put(f, idx);
            }
        }
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(unknown.size() + " class folders match no class of the model ("
                    + d.classes() + " classes" + (d.classNames().isEmpty() ? ", known by index only"
                            : ", e.g. " + d.classNames().subList(0, Math.min(3, d.classNames().size())))
                    + "): " + unknown.subList(0, Math.min(10, unknown.size())) + (unknown.size() > 10 ? " ..." : "")
                    + (classMap == null ? "; give --class-map FILE with '<folder> <model class>' lines"
                            : "; check " + classMap));
        }
        return out;
    }

    /** {@code <folder> <model class>} per line; blank lines and {@code #} comments are ignored. */
    static Map<String, String> readClassMap(Configuration conf, String file) throws IOException {
        Path p = new Path(file);
        Map<String, String> out = new LinkedHashMap<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getFileSystem(conf).open(p),
                StandardCharsets.UTF_8))) {
            String line;
            int no = 0;
            while ((line = r.readLine()) != null) {
                no++;
                String t = line.strip();
                if (t.isEmpty() || t.startsWith("#")) {
                    continue;
                }
                String[] f = t.split("\\s+");
                if (f.length != 2) {
                    throw new IOException(file + " line " + no + ": expected '<folder> <model class>', got '" + t + "'");
                }
                if (out.put(f[0], f[1]) != null) {
                    throw new IOException(file + " line " + no + ": folder " + f[0] + " is mapped twice");
                }
            }
        }
        return out;
    }
}
