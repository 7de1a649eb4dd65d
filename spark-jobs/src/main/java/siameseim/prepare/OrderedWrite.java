package siameseim.prepare;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.SparkSession;
import scala.Tuple2;
import siameseim.datasets.loader.EpochOrder;
import siameseim.datasets.prepare.InputImage;
import siameseim.datasets.prepare.PrepareOptions;
import siameseim.datasets.prepare.PrepareTask;
import siameseim.datasets.shards.Manifest;
import siameseim.spark.SparkSessions;

/**
 * Writes input images that are read where they are stored (table rows, tar members) in stored
 * row order, with one Spark shuffle and no listing on the driver. Each image's place is drawn
 * from (prepare.seed, its key) alone; task t takes the t-th of {@code tasks} equal ranges of those
 * draws and writes its images sorted by them, so the shards in task order hold each split in a
 * uniform random order, and the same input and seed give the same shards whatever order the
 * images were read in. With prepare.row-order = sorted, the places are (class, key) and Spark's
 * range partitioner cuts them (it samples the input first: one more read).
 *
 * <p>Places and images cross the shuffle as byte arrays ({@link #place}, {@link #encode}), so that
 * Java serialisation, Spark's default, writes two arrays per image rather than object graphs
 * (Spark's Kryo cannot write Java records).
 */
final class OrderedWrite {
    private OrderedWrite() {}

    /**
     * Where an image goes, as bytes that sort (unsigned) in stored order: its draw (sign bit
     * flipped, big-endian, so that signed order is byte order), its class and key (ties, and the
     * sorted order), then a checksum of its bytes, so that even images under one key (a table with
     * repeated keys) come in the same order on every run, whatever order the shuffle delivers them in.
     */
    static byte[] place(long draw, String wnid, String key, long tie) {
        byte[] w = (wnid == null ? "" : wnid).getBytes(StandardCharsets.UTF_8);
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + w.length + 1 + k.length + 1 + 8).putLong(draw ^ Long.MIN_VALUE).put(w)
                .put((byte) 0).put(k).put((byte) 0).putLong(tie).array();
    }

    /** Places in stored order. */
    static final Comparator<byte[]> ORDER = (Comparator<byte[]> & Serializable) Arrays::compareUnsigned;

    /** Task t of n takes the draws in [MIN + t 2^64/n, MIN + (t+1) 2^64/n). */
    static final class DrawRanges extends Partitioner {
        private static final long serialVersionUID = 1L;
        private final int n;

        DrawRanges(int n) {
            this.n = n;
        }

        @Override
        public int numPartitions() {
            return n;
        }

        @Override
        public int getPartition(Object key) {
            long u = ByteBuffer.wrap((byte[]) key).getLong(); // the draw as unsigned: its order
            // floor(u * n / 2^64) for unsigned u: the high word of the unsigned product
            return (int) (Math.multiplyHigh(u, n) + ((u >> 63) & n));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof DrawRanges d && d.n == n;
        }

        @Override
        public int hashCode() {
            return n;
        }
    }

    /** The draw of one image: from the seed and its key alone. */
    static long draw(long seed, String key) {
        long h = seed;
        for (int i = 0; i < key.length(); i++) {
            h = h * 0x100000001B3L ^ key.charAt(i); // FNV-style fold of the whole key, mixed below
        }
        return EpochOrder.mix(h, key.length(), ORDER_STREAM);
    }

    private static long checksum(InputImage im) {
        if (im.image() == null) {
            return -1;
        }
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(im.image());
        return crc.getValue();
    }

    /** Separates this draw from the other uses of the seed. */
    private static final long ORDER_STREAM = 0x0DE5;

    /**
     * Puts {@code images} in stored order and prepares them in {@code tasks} tasks into {@code staging}.
     *
     * @param classes the dataset's classes (empty: unlabelled)
     * @param splits the splits the dataset has, train first
     */
    static DatasetPreparation.Prepared write(SparkSession spark, JavaRDD<InputImage> images, List<String> classes,
            List<String> splits, Manifest.RowOrder rowOrder, PrepareOptions options, Path staging, int tasks) {
        return write(spark, images, Objects.requireNonNull(classes), splits, rowOrder, options, staging, tasks, null);
    }

    /**
     * {@link #write(SparkSession, JavaRDD, List, List, Manifest.RowOrder, PrepareOptions, Path, int)}
     * when the classes are known only from the images themselves (WebDataset labels): the labels are
     * gathered while the shuffle's map side reads the images ({@link LabelSet}), that side runs as
     * a stage of its own ({@code SparkContext.submitMapStage}, the call Spark's adaptive execution
     * makes), and the writing side, which numbers the classes, starts after it on its output. The
     * input is read once.
     *
     * @param found told the classes (sorted as {@link #classes} sorts them) once the read is done
     */
    static DatasetPreparation.Prepared writeFindingClasses(SparkSession spark, JavaRDD<InputImage> images,
            List<String> splits, Manifest.RowOrder rowOrder, PrepareOptions options, Path staging, int tasks,
            java.util.function.Consumer<List<String>> found) {
        return write(spark, images, null, splits, rowOrder, options, staging, tasks, found);
    }

    private static DatasetPreparation.Prepared write(SparkSession spark, JavaRDD<InputImage> images,
            List<String> known, List<String> splits, Manifest.RowOrder rowOrder, PrepareOptions options, Path staging,
            int tasks, java.util.function.Consumer<List<String>> found) {
        long seed = rowOrder.seed();
        boolean shuffled = rowOrder.shuffled();
        LabelSet labels = known == null ? new LabelSet() : null;
        if (labels != null) {
            spark.sparkContext().register(labels, "siameseim prepare: labels found");
        }
        JavaPairRDD<byte[], byte[]> placed = images.mapToPair(im -> {
            if (labels != null && im.wnid() != null) {
                labels.add(im.wnid());
            }
            return new Tuple2<>(place(shuffled ? draw(seed, im.key()) : 0L, im.wnid(), im.key(), checksum(im)),
                    encode(im));
        });
        JavaPairRDD<byte[], byte[]> ordered = shuffled
                ? placed.repartitionAndSortWithinPartitions(new DrawRanges(tasks), ORDER)
                : placed.sortByKey(ORDER, true, tasks);
        List<String> classes = known;
        if (classes == null) {
            if (images.getNumPartitions() > 0) {
                runMapSide(spark, ordered);
            }
            classes = classes(labels.value());
            found.accept(classes);
        }
        List<String> cls = classes;
        Map<String, String> hadoop = SparkSessions.hadoopConf(spark);
        String stagingUri = staging.toString();
        List<PrepareTask.Result> results = ordered.values()
                .mapPartitionsWithIndex((Integer idx, Iterator<byte[]> it) -> {
                    Configuration c = SparkSessions.rebuild(hadoop);
                    Iterator<InputImage> in = new Iterator<>() {
                        @Override
                        public boolean hasNext() {
                            return it.hasNext();
                        }

                        @Override
                        public InputImage next() {
                            return decode(it.next());
                        }
                    };
                    return List.of(PrepareTask.run(idx, in, cls, options, c, new Path(stagingUri))).iterator();
                }, true).collect();
        long inputs = 0;
        for (PrepareTask.Result r : results) {
            inputs += r.bad().size() + r.images().values().stream().mapToLong(Long::longValue).sum();
        }
        return new DatasetPreparation.Prepared(classes, splits, results, inputs);
    }

    /**
     * Runs the map side of {@code ordered}'s shuffle as a stage of its own; the next job on
     * {@code ordered} finds its output and skips it. {@code submitMapStage} is Scala
     * {@code private[spark]} (public to Java): Spark's adaptive execution is built on it. Checked
     * by PrepareTarsTest (the input is read once).
     */
    private static void runMapSide(SparkSession spark, JavaPairRDD<byte[], byte[]> ordered) {
        org.apache.spark.ShuffleDependency<?, ?, ?> dep =
                (org.apache.spark.ShuffleDependency<?, ?, ?>) ordered.rdd().dependencies().head();
        try {
            spark.sparkContext().submitMapStage(dep).get();
        } catch (org.apache.spark.SparkException e) {
            throw new IllegalStateException("prepare: reading the input failed: " + e.getMessage(), e);
        }
    }

    /**
     * The distinct labels seen by the tasks: a set union, so a task that runs again (a retry, a
     * speculative copy) adds nothing new, and only successful tasks' sets reach the driver.
     */
    static final class LabelSet extends org.apache.spark.util.AccumulatorV2<String, java.util.Set<String>> {
        private static final long serialVersionUID = 1L;
        private final java.util.Set<String> set = java.util.concurrent.ConcurrentHashMap.newKeySet();

        @Override
        public boolean isZero() {
            return set.isEmpty();
        }

        @Override
        public LabelSet copy() {
            LabelSet c = new LabelSet();
            c.set.addAll(set);
            return c;
        }

        @Override
        public void reset() {
            set.clear();
        }

        @Override
        public void add(String label) {
            set.add(label);
        }

        @Override
        public void merge(org.apache.spark.util.AccumulatorV2<String, java.util.Set<String>> other) {
            set.addAll(other.value());
        }

        @Override
        public java.util.Set<String> value() {
            return set;
        }
    }

    /** An input image as bytes for the shuffle. */
    static byte[] encode(InputImage im) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + (im.image() == null ? 0 : im.image().length));
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeUTF(im.split());
            writeNullable(out, im.wnid());
            out.writeUTF(im.key());
            writeNullable(out, im.badReason());
            writeNullable(out, im.badDetail() == null || im.badDetail().length() <= 8000 ? im.badDetail()
                    : im.badDetail().substring(0, 8000));
            out.writeInt(im.image() == null ? -1 : im.image().length);
            if (im.image() != null) {
                out.write(im.image());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static InputImage decode(byte[] b) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(b))) {
            String split = in.readUTF();
            String wnid = readNullable(in);
            String key = in.readUTF();
            String reason = readNullable(in);
            String detail = readNullable(in);
            int n = in.readInt();
            byte[] image = n < 0 ? null : in.readNBytes(n);
            return new InputImage(split, wnid, key, image, reason, detail);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeNullable(DataOutputStream out, String s) throws IOException {
        out.writeBoolean(s != null);
        if (s != null) {
            out.writeUTF(s);
        }
    }

    private static String readNullable(DataInputStream in) throws IOException {
        return in.readBoolean() ? in.readUTF() : null;
    }

    /**
     * Classes from the labels found: sorted numerically when every label is an integer (class
     * numbers such as WebDataset's cls), else as strings.
     */
    static List<String> classes(java.util.Collection<String> labels) {
        boolean numbers = !labels.isEmpty() && labels.stream().allMatch(l -> l.matches("-?\\d{1,18}"));
        return labels.stream().distinct().sorted(numbers ? Comparator.comparingLong(Long::parseLong)
                : Comparator.<String>naturalOrder()).toList();
    }
}
