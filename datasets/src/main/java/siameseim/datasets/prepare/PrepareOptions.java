package siameseim.datasets.prepare;

import java.io.Serializable;

/** How each image is turned into a shard row; {@code readAhead}: inputs a task reads ahead, on as many threads. */
public record PrepareOptions(long shardBytes, int resizeShorterSide, int jpegQuality, long maxPixels,
        String decoder, int readAhead) implements Serializable {}
