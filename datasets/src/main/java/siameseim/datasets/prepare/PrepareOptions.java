package siameseim.datasets.prepare;

import java.io.Serializable;

/** How each image is turned into a shard row. */
public record PrepareOptions(long shardBytes, int resizeShorterSide, int jpegQuality, long maxPixels,
        String decoder) implements Serializable {}
