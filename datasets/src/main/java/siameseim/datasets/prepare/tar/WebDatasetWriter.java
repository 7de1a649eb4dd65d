package siameseim.datasets.prepare.tar;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.image.ImageSource;
import siameseim.files.UserFiles;

/**
 * Writes labelled images as WebDataset shards, {@code <split>/shard-<n>.tar} of samples
 * {@code <key>.jpg}, {@code <key>.cls} (the class number) and {@code <key>.json}
 * ({@code {"class": "<class name>"}}), the input of prepare's webdataset layout. Members are
 * written in PAX format (long names, any size), in the source's order; keys are the image's
 * position in the source, so the same source gives the same shards, byte for byte.
 */
public final class WebDatasetWriter {
    private WebDatasetWriter() {}

    /** The stored modification time of every member: fixed, so that shards are reproducible. */
    private static final long MTIME = 1_700_000_000_000L;

    /** @return the shards written */
    public static List<Path> write(Configuration conf, Path root, String split, ImageSource images,
            String[] classNames, int quality, int perShard) throws IOException {
        ImageDecoder enc = ImageDecoder.named("opencv");
        int shards = (images.size() + perShard - 1) / perShard;
        List<Path> out = new ArrayList<>();
        AtomicLong failed = new AtomicLong();
        IOException[] error = new IOException[1];
        IntStream.range(0, shards).parallel().forEach(s -> {
            Path p = new Path(root, split + String.format(Locale.ROOT, "/shard-%06d.tar", s));
            try (OutputStream os = UserFiles.create(p, conf);
                    TarArchiveOutputStream tar = new TarArchiveOutputStream(os)) {
                tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
                for (int i = s * perShard; i < Math.min(images.size(), (s + 1) * perShard); i++) {
                    String key = String.format(Locale.ROOT, "%s-%08d", split, i);
                    int label = images.label(i);
                    put(tar, key + ".jpg", enc.encodeJpeg(images.image(i), quality));
                    put(tar, key + ".cls", (label + "\n").getBytes(StandardCharsets.UTF_8));
                    com.google.gson.JsonObject json = new com.google.gson.JsonObject();
                    json.addProperty("class", classNames[label]);
                    put(tar, key + ".json", (json + "\n").getBytes(StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                failed.incrementAndGet();
                synchronized (error) {
                    error[0] = new IOException("could not write " + p + ": " + e.getMessage(), e);
                }
            }
        });
        if (failed.get() > 0) {
            throw error[0];
        }
        for (int s = 0; s < shards; s++) {
            out.add(new Path(root, split + String.format(Locale.ROOT, "/shard-%06d.tar", s)));
        }
        return out;
    }

    private static void put(TarArchiveOutputStream tar, String name, byte[] bytes) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(bytes.length);
        e.setModTime(MTIME);
        e.setMode(0644);
        tar.putArchiveEntry(e);
        tar.write(bytes);
        tar.closeArchiveEntry();
    }
}
