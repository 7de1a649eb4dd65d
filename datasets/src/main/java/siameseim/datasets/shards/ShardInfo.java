package siameseim.datasets.shards;

import java.io.Serializable;

/** A written shard: path relative to the dataset root, rows, bytes, CRC32C of the file. */
public record ShardInfo(String path, long rows, long bytes, String crc32c) implements Serializable {}
