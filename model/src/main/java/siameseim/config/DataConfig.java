package siameseim.config;

/** Where images come from and how they are fed to a replica. */
public record DataConfig(Synthetic synthetic, int loaderThreads, int prefetchBatches) {

    /** The built-in procedural dataset. */
    public record Synthetic(int classes, int imagesPerClass, int imageSize, long seed) {}

    static DataConfig read(ConfigReader r) {
        Synthetic s = new Synthetic(r.intValue("data.synthetic.classes", 2, 1000),
                r.intValue("data.synthetic.images-per-class", 1, 1 << 20),
                r.intValue("data.synthetic.image-size", 8, 4096), r.longValue("data.synthetic.seed"));
        return new DataConfig(s, r.intValue("data.loader-threads", 1, 256), r.intValue("data.prefetch-batches", 1, 64));
    }
}
