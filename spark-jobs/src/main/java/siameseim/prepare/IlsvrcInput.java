package siameseim.prepare;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import siameseim.config.PrepareConfig;
import siameseim.datasets.prepare.GroundTruth;
import siameseim.datasets.prepare.InputImage;
import siameseim.datasets.prepare.PrepareOptions;
import siameseim.datasets.prepare.PrepareTask;
import siameseim.datasets.prepare.tar.TarImages;
import siameseim.datasets.prepare.tar.TarIndex;
import siameseim.datasets.prepare.tar.TarMembers;
import siameseim.datasets.prepare.tar.TarUnits;
import siameseim.datasets.shards.Manifest;
import siameseim.spark.SparkSessions;

/**
 * ImageNet as image-net.org ships it (prepare.layout = ilsvrc), read in place: a folder holding
 * {@code ILSVRC2012_img_train.tar}, a tar of 1 000 class tars ({@code n01440764.tar}, ...), and
 * optionally {@code ILSVRC2012_img_val.tar} (50 000 flat JPEGs) with its labels: a
 * prepare.val-ground-truth file, Kaggle's {@code LOC_val_solution.csv} in the folder, or the
 * devkit {@code ILSVRC2012_devkit_t12.tar.gz} there (in this order of preference).
 *
 * <p>The driver indexes the training tar by its headers ({@link TarIndex}: about 1 000 reads of
 * 512 bytes, never the 138 GB); each task reads a run of class tars as byte ranges of it. Keys,
 * classes and labels are those of the extracted tree ({@code train/<wnid>/<file>}, a flat
 * {@code val/} with a ground truth), so the dataset holds the same images under the same names.
 * The validation tar is one sequential read by one task (it has no index to split it by).
 */
final class IlsvrcInput {
    private IlsvrcInput() {}

    static final String TRAIN_TAR = "ILSVRC2012_img_train.tar";
    static final String VAL_TAR = "ILSVRC2012_img_val.tar";
    static final String KAGGLE_VAL = "LOC_val_solution.csv";
    static final String DEVKIT = "ILSVRC2012_devkit_t12.tar.gz";

    /** A tar to read: a class tar inside the training tar, or the whole validation tar. */
    record Unit(String split, String file, long fileBytes, long offset, long bytes, String name, String wnid)
            implements Serializable {}

    static DatasetPreparation.Prepared prepare(SparkSession spark, PrepareConfig cfg, Manifest.RowOrder rowOrder,
            PrepareOptions options, Path staging) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Path dir = new Path(cfg.input());
        FileSystem fs = dir.getFileSystem(conf);
        if (fs.isFile(dir)) {
            dir = dir.getParent(); // --input .../ILSVRC2012_img_train.tar: its folder
        }
        Path trainTar = new Path(dir, TRAIN_TAR);
        if (!fs.exists(trainTar)) {
            throw new IOException("input " + dir + " has no " + TRAIN_TAR + " (layout ilsvrc: the folder of ImageNet's"
                    + " own tars)");
        }
        long t0 = System.nanoTime();
        TarIndex.Listing index = TarIndex.list(conf, trainTar);
        String trainFile = fs.makeQualified(trainTar).toString();
        List<Unit> units = new ArrayList<>();
        List<InputImage> stray = new ArrayList<>();
        TreeSet<String> wnids = new TreeSet<>();
        for (TarIndex.Entry e : index.entries()) {
            String name = TarImages.fileName(e.name());
            if (name.endsWith(".tar") && name.length() > 4) {
                String wnid = name.substring(0, name.length() - 4);
                wnids.add(wnid);
                units.add(new Unit("train", trainFile, index.archiveBytes(), e.offset(), e.size(), name, wnid));
            } else {
                stray.add(InputImage.bad("train", TRAIN_TAR + "/" + e.name(), "NO_CLASS",
                        "a member of the training tar that is no class tar (<wnid>.tar)"));
            }
        }
        System.out.printf(Locale.ROOT, "[prepare] indexed %s by its headers in %.1f s: %d class tars, %.1f GiB,"
                + " %d reads%n", trainTar, (System.nanoTime() - t0) / 1e9, units.size(),
                index.archiveBytes() / 1073741824.0, index.reads());
        if (wnids.isEmpty()) {
            throw new IOException(trainTar + " holds no class tars (<wnid>.tar)");
        }
        List<String> classes = List.copyOf(wnids);
        if (!cfg.splits().contains("train")) {
            units.clear();
            stray.clear();
        }
        Map<String, String> valLabels = null;
        Path valTar = new Path(dir, VAL_TAR);
        if (cfg.splits().contains("val")) {
            if (!fs.exists(valTar)) {
                System.out.printf(Locale.ROOT, "[prepare] %s has no %s: the dataset holds no val split%n", dir,
                        VAL_TAR);
            } else {
                valLabels = valLabels(conf, dir, cfg, classes);
                if (valLabels == null) {
                    System.out.printf(Locale.ROOT, "[prepare] %s has no labels for %s (%s, %s or"
                            + " prepare.val-ground-truth): the dataset holds no val split%n", dir, VAL_TAR,
                            KAGGLE_VAL, DEVKIT);
                } else {
                    long len = fs.getFileStatus(valTar).getLen();
                    units.add(new Unit("val", fs.makeQualified(valTar).toString(), len, 0, len, VAL_TAR, null));
                }
            }
        }
        if (units.isEmpty()) {
            throw new IOException("input " + dir + " has nothing to prepare for the splits " + cfg.splits());
        }
        List<String> splits = units.stream().map(Unit::split).distinct().toList();
        int cores = spark.sparkContext().defaultParallelism();
        List<List<Unit>> groups = PrepareTask.plan(units, Unit::split, Unit::bytes, cfg.shardBytes(),
                cfg.tasks() > 0 ? cfg.tasks() : 2 * cores);
        long bytes = units.stream().mapToLong(Unit::bytes).sum();
        int tasks = cfg.tasks() > 0 ? cfg.tasks() : (int) Math.max(2L * cores, bytes / cfg.shardBytes() + 1);
        System.out.printf(Locale.ROOT, "[prepare] %s: %d classes, splits %s, %d tars -> %d read tasks, %d write"
                + " tasks, rows %s%n", dir, classes.size(), splits, units.size(), groups.size(), tasks, rowOrder);

        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<Map<String, String>> labels = jsc.broadcast(valLabels == null ? Map.of() : valLabels);
        Map<String, String> hadoop = SparkSessions.hadoopConf(spark);
        JavaRDD<InputImage> images = jsc.parallelize(groups, groups.size()).flatMap(group -> {
            Configuration c = SparkSessions.rebuild(hadoop);
            Map<String, String> val = labels.value();
            return new TarUnits<>(group, TarUnits.reader(Unit::split, u -> u.split().equals("val") ? u.name()
                    : TRAIN_TAR + "/" + u.name(), u -> {
                        Path p = new Path(u.file());
                        return TarUnits.range(p.getFileSystem(c), p, u.fileBytes(), u.offset(), u.bytes());
                    }, (u, in) -> u.wnid() != null
                            ? new TarImages(new TarMembers(in), TRAIN_TAR + "/" + u.name(), "train",
                                    m -> u.wnid() + "/" + TarImages.fileName(m), m -> u.wnid())
                            : new TarImages(new TarMembers(in), VAL_TAR, "val", TarImages::fileName,
                                    m -> val.get(TarImages.fileName(m)))));
        });
        if (!stray.isEmpty()) {
            images = images.union(jsc.parallelize(stray, 1));
        }
        return OrderedWrite.write(spark, images, classes, splits, rowOrder, options, staging, tasks);
    }

    /** The validation labels by file name, or null when the folder has none. */
    static Map<String, String> valLabels(Configuration conf, Path dir, PrepareConfig cfg, List<String> classes)
            throws IOException {
        if (cfg.valGroundTruth() != null) {
            return GroundTruth.read(conf, new Path(cfg.valGroundTruth()), classes);
        }
        Path kaggle = new Path(dir, KAGGLE_VAL);
        if (kaggle.getFileSystem(conf).exists(kaggle)) {
            return GroundTruth.kaggle(conf, kaggle, classes);
        }
        Path devkit = new Path(dir, DEVKIT);
        if (devkit.getFileSystem(conf).exists(devkit)) {
            return GroundTruth.devkit(conf, devkit, classes);
        }
        return null;
    }
}
