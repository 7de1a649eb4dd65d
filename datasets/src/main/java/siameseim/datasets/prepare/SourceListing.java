package siameseim.datasets.prepare;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import siameseim.datasets.loader.EpochOrder;
import siameseim.datasets.shards.Manifest;

/**
 * Lists an input on any Hadoop file system: an ImageNet-layout tree ({@code train/<wnid>/*} and
 * {@code val/<wnid>/*}, or a flat {@code val/} with a ground-truth file of {@code <file name>
 * <wnid>} lines; {@code val/} may be absent), an unlabelled tree, or the files of an index.
 * Classes are the sorted WordNet ids of {@code train/} (or the index's labels); files are sorted
 * by (split, wnid, name), so the listing, and everything built from it, is deterministic;
 * {@link #files(Manifest.RowOrder)} gives the order the shards store them in.
 */
public final class SourceListing {
    private final List<String> classes;
    private final List<SourceFile> files;
    private final List<String> missingSplits;

    private SourceListing(List<String> classes, List<SourceFile> files, List<String> missingSplits) {
        this.classes = classes;
        this.files = files;
        this.missingSplits = missingSplits;
    }

    /** The splits asked for whose folder the input does not have (never train). */
    public List<String> missingSplits() {
        return missingSplits;
    }

    public List<String> classes() {
        return classes;
    }

    /** Every file, sorted by (split, wnid, name). */
    public List<SourceFile> files() {
        return files;
    }

    /**
     * The files in the order their rows are stored: sorted, or within each split a uniform random
     * permutation drawn with the order's seed (the same listing and seed give the same order).
     * Tasks cut contiguous runs of it, so shards in task order hold the rows in this order.
     */
    public List<SourceFile> files(Manifest.RowOrder order) {
        if (!order.shuffled()) {
            return files;
        }
        List<SourceFile> out = new ArrayList<>(files.size());
        int from = 0;
        for (int split = 0; from < files.size(); split++) {
            int to = from;
            while (to < files.size() && files.get(to).split().equals(files.get(from).split())) {
                to++;
            }
            int[] p = EpochOrder.permutation(to - from, EpochOrder.mix(order.seed(), split, 0x5EED));
            for (int i : p) {
                out.add(files.get(from + i));
            }
            from = to;
        }
        return out;
    }

    /**
     * @param valGroundTruth null when val/ has class folders; else a file of "name wnid" lines
     */
    public static SourceListing list(Configuration conf, Path root, List<String> splits, Path valGroundTruth)
            throws IOException {
        FileSystem fs = root.getFileSystem(conf);
        if (!fs.exists(root)) {
            throw new IOException("input " + root + " does not exist");
        }
        List<SourceFile> files = new ArrayList<>();
        TreeSet<String> classes = new TreeSet<>();
        Path train = new Path(root, "train");
        if (splits.contains("train")) {
            if (!fs.isDirectory(train)) {
                throw new IOException("input " + root + " has no train/ folder (expected train/<wnid>/*.JPEG)"
                        + tarHint(fs, root));
            }
        }
        if (fs.isDirectory(train)) {
            for (FileStatus st : fs.listStatus(train)) {
                if (st.isDirectory()) {
                    classes.add(st.getPath().getName());
                }
            }
        }
        if (classes.isEmpty()) {
            throw new IOException("input " + root + " has no class folders under train/");
        }
        List<String> missing = new ArrayList<>();
        for (String split : splits) {
            Path dir = new Path(root, split);
            if (!fs.isDirectory(dir)) {
                if (split.equals("train")) {
                    throw new IOException("input " + root + " has no train/ folder");
                }
                missing.add(split); // pretraining needs only train; evaluations say which split they miss
                continue;
            }
            if (split.equals("val") && valGroundTruth != null) {
                files.addAll(flatVal(fs, conf, dir, valGroundTruth, classes));
            } else {
                files.addAll(classFolders(fs, dir, split, classes));
            }
        }
        files.sort(Comparator.comparing(SourceFile::split, Comparator.comparingInt(splits::indexOf))
                .thenComparing(f -> f.wnid() == null ? "" : f.wnid()).thenComparing(SourceFile::key));
        return new SourceListing(List.copyOf(classes), files, List.copyOf(missing));
    }

    /**
     * Every file below {@code root}, at any depth, as an unlabelled sample (key: its path below
     * root; hidden files and folders, and those starting with "_", left out), sorted by (split, key):
     * in train, or in val when {@link #heldOut} draws it for {@code fraction} with {@code seed}.
     */
    public static SourceListing unlabelled(Configuration conf, Path root, double fraction, long seed)
            throws IOException {
        FileSystem fs = root.getFileSystem(conf);
        if (!fs.exists(root)) {
            throw new IOException("input " + root + " does not exist");
        }
        String base = fs.makeQualified(root).toUri().getPath();
        base = base.endsWith("/") ? base : base + "/";
        List<SourceFile> files = new ArrayList<>();
        org.apache.hadoop.fs.RemoteIterator<org.apache.hadoop.fs.LocatedFileStatus> it = fs.listFiles(root, true);
        while (it.hasNext()) {
            org.apache.hadoop.fs.LocatedFileStatus f = it.next();
            String key = f.getPath().toUri().getPath();
            key = key.startsWith(base) ? key.substring(base.length()) : f.getPath().getName();
            if (hidden(key)) {
                continue;
            }
            String split = heldOut(key, fraction, seed) ? "val" : "train";
            files.add(new SourceFile(split, null, key, f.getPath().toString(), f.getLen()));
        }
        if (!files.isEmpty() && files.stream().allMatch(f -> f.key().endsWith(".tar"))) {
            throw new IOException("input " + root + " holds only .tar files" + tarHint(fs, root));
        }
        files.sort(Comparator.comparing((SourceFile f) -> f.split().equals("val")).thenComparing(SourceFile::key));
        boolean val = !files.isEmpty() && files.get(files.size() - 1).split().equals("val");
        if (val && files.get(0).split().equals("val")) {
            throw new IOException("input " + root + ": prepare.held-out = " + fraction + " drew all " + files.size()
                    + " images into val, leaving none to train on");
        }
        return new SourceListing(List.of(), files, val ? List.of() : List.of("val"));
    }

    /**
     * Whether an unlabelled image goes to the held-out split: a draw from (seed, its key) alone, so
     * a file's split does not depend on the rest of the tree (adding images never moves one between
     * train and val) and the held-out count is Binomial(images, fraction).
     */
    static boolean heldOut(String key, double fraction, long seed) {
        if (fraction <= 0) {
            return false;
        }
        long h = EpochOrder.mix(seed, key.hashCode(), HELD_OUT_STREAM);
        return (h >>> 11) * 0x1.0p-53 < fraction;
    }

    /** Separates the held-out draw from the other uses of the seed (the row order). */
    private static final long HELD_OUT_STREAM = 0x4E1D0;

    /**
     * The files an index names: {@code rows} of (path, label or null, split), paths already
     * resolved. Sizes come from one listing per folder (a file missing there keeps size 0 and is
     * reported unreadable when its task reads it). Classes are the sorted labels; without any
     * label the dataset is unlabelled, and with some, a row without one is reported (NO_CLASS).
     */
    public static SourceListing index(Configuration conf, List<String[]> rows, List<String> splits)
            throws IOException {
        TreeSet<String> classes = new TreeSet<>();
        Map<Path, Map<String, Long>> sizes = new HashMap<>();
        List<SourceFile> files = new ArrayList<>();
        for (String[] r : rows) {
            if (r[1] != null) {
                classes.add(r[1]);
            }
            Path p = new Path(r[0]);
            Map<String, Long> dir = sizes.get(p.getParent());
            if (dir == null) {
                dir = new HashMap<>();
                try {
                    for (FileStatus st : p.getFileSystem(conf).listStatus(p.getParent())) {
                        dir.put(st.getPath().getName(), st.getLen());
                    }
                } catch (IOException e) {
                    // the folder is missing or unreadable: its files are reported by the tasks
                }
                sizes.put(p.getParent(), dir);
            }
            files.add(new SourceFile(r[2], r[1], r[0], r[0], dir.getOrDefault(p.getName(), 0L)));
        }
        files.sort(Comparator.comparing(SourceFile::split, Comparator.comparingInt(splits::indexOf))
                .thenComparing(f -> f.wnid() == null ? "" : f.wnid()).thenComparing(SourceFile::key));
        List<String> missing = new ArrayList<>(splits);
        files.forEach(f -> missing.remove(f.split()));
        return new SourceListing(List.copyOf(classes), files, List.copyOf(missing));
    }

    /** What to use instead when the input is, or holds, tars (ImageNet's own files, WebDataset shards). */
    private static String tarHint(FileSystem fs, Path root) throws IOException {
        boolean tars = root.getName().endsWith(".tar");
        if (!tars && fs.isDirectory(root)) {
            for (FileStatus st : fs.listStatus(root)) {
                tars |= st.getPath().getName().endsWith(".tar");
            }
        }
        return !tars ? "" : ": for ImageNet's own ILSVRC2012_img_train.tar use --layout ilsvrc (on its folder), for"
                + " WebDataset shards --layout webdataset; both are read in place";
    }

    private static boolean hidden(String key) {
        for (String part : key.split("/")) {
            if (part.startsWith(".") || part.startsWith("_")) {
                return true;
            }
        }
        return false;
    }

    private static List<SourceFile> classFolders(FileSystem fs, Path dir, String split, TreeSet<String> classes)
            throws IOException {
        List<SourceFile> out = new ArrayList<>();
        for (FileStatus st : fs.listStatus(dir)) {
            String name = st.getPath().getName();
            if (name.startsWith(".") || name.startsWith("_")) {
                continue;
            }
            if (!st.isDirectory()) {
                // a file outside any class folder: reported as bad, never silently dropped
                out.add(new SourceFile(split, null, name, st.getPath().toString(), st.getLen()));
                continue;
            }
            if (!classes.contains(name)) {
                throw new IOException(split + "/" + name + " is a class folder that train/ does not have");
            }
            for (FileStatus f : fs.listStatus(st.getPath())) {
                if (f.isFile() && !f.getPath().getName().startsWith(".")) {
                    out.add(new SourceFile(split, name, name + "/" + f.getPath().getName(), f.getPath().toString(),
                            f.getLen()));
                }
            }
        }
        return out;
    }

    private static List<SourceFile> flatVal(FileSystem fs, Configuration conf, Path dir, Path gt,
            TreeSet<String> classes) throws IOException {
        Map<String, String> labels = GroundTruth.read(conf, gt, classes);
        List<SourceFile> out = new ArrayList<>();
        for (FileStatus f : fs.listStatus(dir)) {
            if (!f.isFile() || f.getPath().getName().startsWith(".")) {
                continue;
            }
            String name = f.getPath().getName();
            // an image the ground truth does not list keeps wnid null and is reported as bad
            out.add(new SourceFile("val", labels.get(name), name, f.getPath().toString(), f.getLen()));
        }
        return out;
    }
}
