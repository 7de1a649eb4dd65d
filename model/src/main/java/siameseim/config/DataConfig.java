package siameseim.config;

/** Where images come from and how they are fed to a replica. */
public record DataConfig(String path, String split, String subset, int shuffleWindow, int interleave, int readAhead,
        String decoder,
        Synthetic synthetic, int loaderThreads, int prefetchBatches, LoaderPriority loaderPriority,
        int decodedCacheMb) implements java.io.Serializable {

    /** data.interleave = auto: 1 for a dataset stored in a uniform random order, else this. */
    public static final int AUTO_INTERLEAVE = 16;

    /**
     * Shards whose rows an epoch mixes together (EpochOrder): data.interleave, or for {@code auto}
     * 1 when the dataset's rows are stored shuffled (every window is then a uniform sample already)
     * and {@link #AUTO_INTERLEAVE} otherwise.
     */
    public int interleaveFor(boolean storedShuffled) {
        return interleave > 0 ? interleave : storedShuffled ? 1 : AUTO_INTERLEAVE;
    }

    /** data.loader-priority. */
    public enum LoaderPriority { AUTO, IDLE, NORMAL }

    /**
     * Whether the loader threads run at idle priority: {@code data.loader-priority = idle}, or
     * {@code auto} on a CPU replica, whose training threads use all the cores it was given (a GPU
     * replica's loader must keep the GPU fed, and a CUDA thread may spin while it waits).
     */
    public boolean idleLoader(boolean cpuReplica) {
        return loaderPriority == LoaderPriority.IDLE || (loaderPriority == LoaderPriority.AUTO && cpuReplica);
    }

    /** data.decoded-cache-mb in bytes (DecodedCache: decoded pixels kept across epochs, per replica). */
    public long decodedCacheBytes() {
        return (long) decodedCacheMb << 20;
    }

    /** The built-in procedural dataset. */
    public record Synthetic(int classes, int imagesPerClass, int imageSize, long seed) implements java.io.Serializable {}

    static DataConfig read(ConfigReader r) {
        Synthetic s = new Synthetic(r.intValue("data.synthetic.classes", 2, 1000),
                r.intValue("data.synthetic.images-per-class", 1, 1 << 20),
                r.intValue("data.synthetic.image-size", 8, 4096), r.longValue("data.synthetic.seed"));
        String split = r.stringValue("data.split");
        if (!split.equals("train") && !split.equals("val")) {
            throw r.invalid("data.split", "must be train or val");
        }
        String decoder = r.stringValue("data.decoder");
        if (!decoder.equals("opencv") && !decoder.equals("imageio")) {
            throw r.invalid("data.decoder", "must be opencv or imageio");
        }
        int interleave = r.stringValue("data.interleave").equals("auto") ? 0
                : r.intValue("data.interleave", 1, 1 << 20);
        return new DataConfig(r.isNull("data.path") ? null : r.stringValue("data.path"), split,
                r.isNull("data.subset") ? null : r.stringValue("data.subset"),
                r.intValue("data.shuffle-window", 1, 1 << 24), interleave, r.intValue("data.read-ahead", 1, 64),
                decoder, s,
                r.intValue("data.loader-threads", 1, 256), r.intValue("data.prefetch-batches", 1, 64),
                r.enumValue("data.loader-priority", LoaderPriority.class),
                r.intValue("data.decoded-cache-mb", 0, 1 << 30));
    }
}
