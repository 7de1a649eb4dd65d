package siameseim.datasets.shards;

import java.io.Serializable;

/**
 * One row of a dataset shard: the image's key (its path below the split folder), class index,
 * WordNet id, encoded RGB bytes (JPEG), pixel size, and what the source file was.
 */
public record ImageRecord(String key, int label, String wnid, byte[] image, int width, int height,
        String sourceFormat) implements Serializable {}
