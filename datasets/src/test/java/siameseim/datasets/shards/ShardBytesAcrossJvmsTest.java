package siameseim.datasets.shards;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.column.Encoding;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same rows written in two JVM processes give the same shard bytes. parquet-java 1.17 collects a column
 * chunk's encodings in a {@code HashSet<Encoding>}, whose order follows the enum constants' identity hash codes,
 * which differ between processes. Each child JVM here pins those hash codes (HotSpot's sequential identity hashes,
 * {@code -XX:hashCode=3}) so that one child's set iterates PLAIN first and the other's BIT_PACKED first: the two
 * orders that unsorted footers would differ by, every time rather than in half of the runs.
 */
class ShardBytesAcrossJvmsTest {

    @Test
    void theSameRowsGiveTheSameShardBytesInTwoJvmsWhoseEncodingSetsIterateDifferently(@TempDir Path tmp)
            throws Exception {
        String plainFirst = writeInChildJvm(tmp.resolve("a"), true);
        String bitPackedFirst = writeInChildJvm(tmp.resolve("b"), false);
        assertNotEquals(plainFirst, bitPackedFirst, "the children's encoding sets iterate in different orders");

        Path a = tmp.resolve("a/train/part-00000-000.parquet");
        Path b = tmp.resolve("b/train/part-00000-000.parquet");
        assertEquals(Files.readString(tmp.resolve("a/crc")), Files.readString(tmp.resolve("b/crc")));
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));

        // the rewritten footer is a valid one: the rows read back, and every chunk lists its encodings sorted
        List<ImageRecord> rows = new ArrayList<>();
        ShardReader.scan(new Configuration(), new org.apache.hadoop.fs.Path(a.toUri()), row -> true,
                (row, r) -> rows.add(r));
        assertEquals(rows(), rows.stream().map(ShardBytesAcrossJvmsTest::describe).toList());
        try (ParquetFileReader reader = ParquetFileReader.open(
                HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(a.toUri()), new Configuration()))) {
            for (ColumnChunkMetaData chunk : reader.getFooter().getBlocks().get(0).getColumns()) {
                assertEquals(Set.of(Encoding.PLAIN, Encoding.BIT_PACKED), chunk.getEncodings(), chunk.getPath().toString());
            }
        }
        assertEquals(java.util.Collections.nCopies(7, List.of(Encoding.PLAIN, Encoding.BIT_PACKED)),
                footerEncodings(Files.readAllBytes(a)), "each column chunk's list, in the order the file holds it");
    }

    /** The encodings each column chunk of the first row group lists, in the order the footer holds them. */
    private static List<List<Encoding>> footerEncodings(byte[] file) throws Exception {
        int n = file.length;
        int length = java.nio.ByteBuffer.wrap(file, n - 8, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
        org.apache.parquet.format.FileMetaData footer = org.apache.parquet.format.Util.readFileMetaData(
                new java.io.ByteArrayInputStream(file, n - 8 - length, length));
        return footer.getRow_groups().get(0).getColumns().stream().map(c -> c.getMeta_data().getEncodings().stream()
                .map(e -> Encoding.valueOf(e.name())).toList()).toList();
    }

    private static String describe(ImageRecord r) {
        return r.key() + " " + r.label() + " " + r.wnid() + " " + new String(r.image(), StandardCharsets.UTF_8)
                + " " + r.width() + "x" + r.height() + " " + r.sourceFormat();
    }

    private static List<String> rows() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < ROWS; i++) {
            out.add(describe(row(i)));
        }
        return out;
    }

    private static final int ROWS = 50;

    static ImageRecord row(int i) {
        byte[] image = ("image " + i).repeat(20 + i).getBytes(StandardCharsets.UTF_8);
        return new ImageRecord("n0" + i % 3 + "/img" + i + ".jpg", i % 3, "n0" + i % 3, image, 10 + i, 20 + i, "jpeg");
    }

    /** Runs {@link WriteShard} in a new JVM; returns the order its {@code HashSet<Encoding>} iterated in. */
    private static String writeInChildJvm(Path dir, boolean plainFirst) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(System.getProperty("java.home") + "/bin/java", "-Xmx256m",
                "-XX:+UnlockExperimentalVMOptions", "-XX:hashCode=3"));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-")) {
                cmd.add(a);
            }
        }
        cmd.addAll(List.of("-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                WriteShard.class.getName(), dir.toString(), Boolean.toString(plainFirst)));
        Files.createDirectories(dir);
        Path log = dir.resolve("log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean exited = p.waitFor(120, TimeUnit.SECONDS);
        if (!exited) {
            p.destroyForcibly().waitFor();
        }
        String out = Files.readString(log);
        assertTrue(exited, "the child JVM did not finish in 120 s: " + out);
        assertEquals(0, p.exitValue(), out);
        return Files.readString(dir.resolve("order"));
    }

    /** A child JVM: pins the identity hash codes of PLAIN and BIT_PACKED, then writes one shard. */
    public static final class WriteShard {
        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            boolean plainFirst = Boolean.parseBoolean(args[1]);
            // With -XX:hashCode=3 an object's identity hash is the next value of a global counter, given when it is
            // first asked for; a HashSet of capacity 16 puts a small hash h in bucket h % 16. Advance the counter
            // to 14 (mod 16), then hash the two constants: PLAIN in bucket 15 and BIT_PACKED in 0, or, one step
            // later, PLAIN in 0 and BIT_PACKED in 1.
            Encoding.values();
            while ((System.identityHashCode(new Object()) & 15) != 14) {
                // advance
            }
            if (plainFirst) {
                System.identityHashCode(new Object());
            }
            System.identityHashCode(Encoding.PLAIN);
            System.identityHashCode(Encoding.BIT_PACKED);
            Set<Encoding> set = new HashSet<>(List.of(Encoding.BIT_PACKED, Encoding.PLAIN));
            Files.writeString(dir.resolve("order"), set.toString());

            ShardWriter w = new ShardWriter(new Configuration(),
                    new org.apache.hadoop.fs.Path(dir.toUri()), "train", "part-00000", 1 << 20);
            for (int i = 0; i < ROWS; i++) {
                w.write(row(i));
            }
            w.close();
            assertEquals(1, w.shards().size());
            Files.writeString(dir.resolve("crc"), w.shards().get(0).crc32c());
        }
    }
}
