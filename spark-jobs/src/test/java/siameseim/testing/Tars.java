package siameseim.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** Tars in the layouts prepare reads, written with Commons Compress in GNU or PAX format. */
public final class Tars {
    private Tars() {}

    /** A tar of {@code members} (name to bytes, in order), GNU (long-name records) or PAX format. */
    public static byte[] tar(Map<String, byte[]> members, boolean pax) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(out)) {
            t.setLongFileMode(pax ? TarArchiveOutputStream.LONGFILE_POSIX : TarArchiveOutputStream.LONGFILE_GNU);
            t.setBigNumberMode(pax ? TarArchiveOutputStream.BIGNUMBER_POSIX : TarArchiveOutputStream.BIGNUMBER_STAR);
            for (Map.Entry<String, byte[]> m : members.entrySet()) {
                TarArchiveEntry e = new TarArchiveEntry(m.getKey());
                e.setSize(m.getValue().length);
                e.setModTime(1_600_000_000_000L);
                t.putArchiveEntry(e);
                t.write(m.getValue());
                t.closeArchiveEntry();
            }
        }
        return out.toByteArray();
    }

    /**
     * ImageNet's own files from an extracted tree ({@code train/<wnid>/*}, {@code val/<wnid>/*}):
     * {@code ILSVRC2012_img_train.tar} (PAX) of one GNU tar per class, the flat
     * {@code ILSVRC2012_img_val.tar} and Kaggle's {@code LOC_val_solution.csv} and
     * {@code LOC_synset_mapping.txt}, in {@code out} (the last three only when the tree has a val/).
     * Folders and files are taken in sorted order.
     */
    public static void ilsvrc(Configuration conf, Path tree, Path out) throws IOException {
        FileSystem fs = tree.getFileSystem(conf);
        Map<String, byte[]> outer = new java.util.LinkedHashMap<>();
        StringBuilder synsets = new StringBuilder();
        for (FileStatus cls : sorted(fs, new Path(tree, "train"))) {
            if (!cls.isDirectory()) {
                continue;
            }
            Map<String, byte[]> inner = new java.util.LinkedHashMap<>();
            for (FileStatus f : sorted(fs, cls.getPath())) {
                inner.put(f.getPath().getName(), read(fs, f.getPath()));
            }
            outer.put(cls.getPath().getName() + ".tar", tar(inner, false));
            synsets.append(cls.getPath().getName()).append(" some words, more words\n");
        }
        Fixtures.write(conf, new Path(out, "ILSVRC2012_img_train.tar"), tar(outer, true));
        Fixtures.write(conf, new Path(out, "LOC_synset_mapping.txt"), synsets.toString().getBytes());
        if (!fs.exists(new Path(tree, "val"))) {
            return;
        }
        Map<String, byte[]> val = new java.util.LinkedHashMap<>();
        StringBuilder csv = new StringBuilder("ImageId,PredictionString\n");
        for (FileStatus cls : sorted(fs, new Path(tree, "val"))) {
            for (FileStatus f : sorted(fs, cls.getPath())) {
                String name = f.getPath().getName();
                val.put(name, read(fs, f.getPath()));
                csv.append(name.replace(".JPEG", "")).append(',').append(cls.getPath().getName())
                        .append(" 1 2 30 40 ").append(cls.getPath().getName()).append(" 5 6 7 8\n");
            }
        }
        Fixtures.write(conf, new Path(out, "ILSVRC2012_img_val.tar"), tar(val, false));
        Fixtures.write(conf, new Path(out, "LOC_val_solution.csv"), csv.toString().getBytes());
    }

    private static FileStatus[] sorted(FileSystem fs, Path dir) throws IOException {
        FileStatus[] st = fs.listStatus(dir);
        java.util.Arrays.sort(st, java.util.Comparator.comparing(s -> s.getPath().getName()));
        return st;
    }

    private static byte[] read(FileSystem fs, Path p) throws IOException {
        try (var in = fs.open(p)) {
            return in.readAllBytes();
        }
    }
}
