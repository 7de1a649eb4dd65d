package siameseim.files;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * Files written for people and other tools to open (generated image trees, exported models,
 * results, metrics, plots): through the path's own Hadoop file system, except on a local disk,
 * where they are written with java.nio: Hadoop's local file system would put a {@code .crc} side
 * file next to each one and, without Hadoop's native library, start a {@code chmod} process per
 * file it creates (which made writing 70 000 small images take minutes). What the product itself
 * relies on carries its own checksums (checkpoints: a CRC32C per tensor,
 * docs/checkpoint-format.md; dataset shards: a CRC32C per shard in the manifest).
 */
public final class UserFiles {
    private UserFiles() {}

    /** Creates (or overwrites) {@code p}, making its parent folders. */
    public static OutputStream create(Path p, Configuration conf) throws IOException {
        FileSystem fs = p.getFileSystem(conf);
        if (fs instanceof LocalFileSystem || fs instanceof RawLocalFileSystem) {
            java.nio.file.Path local = Paths.get(fs.makeQualified(p).toUri());
            Files.createDirectories(local.getParent());
            return Files.newOutputStream(local);
        }
        return fs.create(p, true);
    }
}
