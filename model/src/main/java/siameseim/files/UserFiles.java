package siameseim.files;

import java.io.IOException;
import java.io.OutputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Files written for people and other tools to open (generated image trees, exported models,
 * results, metrics, plots): through the path's own Hadoop file system, except that on a local
 * disk they bypass Hadoop's checksum layer, which would put a {@code .crc} side file next to each
 * one. What the product itself relies on carries its own checksums (checkpoints: a CRC32C per
 * tensor, docs/checkpoint-format.md; dataset shards: a CRC32C per shard in the manifest).
 */
public final class UserFiles {
    private UserFiles() {}

    /** The file system to write user-facing files under {@code p} with. */
    public static FileSystem fileSystem(Path p, Configuration conf) throws IOException {
        FileSystem fs = p.getFileSystem(conf);
        return fs instanceof LocalFileSystem local ? local.getRawFileSystem() : fs;
    }

    /** Creates (or overwrites) {@code p}, making its parent folders. */
    public static OutputStream create(Path p, Configuration conf) throws IOException {
        return fileSystem(p, conf).create(p, true);
    }
}
