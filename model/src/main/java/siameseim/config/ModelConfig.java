package siameseim.config;

/** Architecture of the encoder and of SiameseIM's decoder side (spec 2.2). */
public record ModelConfig(int imageSize, int patchSize, Encoder encoder, Decoder decoder)
        implements java.io.Serializable {

    /** The ViT kept for downstream tasks. */
    public record Encoder(int width, int depth, int heads, int mlpRatio, double dropPath)
            implements java.io.Serializable {}

    /** Projector + predictor; {@code norm} is BATCH in the reference, LAYER for use_proj_ln. */
    public record Decoder(int width, int heads, int projectorDepth, int predictorDepth, NormKind norm)
            implements java.io.Serializable {}

    /** Normalisation of the projector and predictor blocks. */
    public enum NormKind {
        BATCH,
        LAYER
    }

    /** Patches per side. */
    public int grid() {
        return imageSize / patchSize;
    }

    /** Patch tokens per image (L). */
    public int tokens() {
        return grid() * grid();
    }

    /** The architecture given by {@code model.*} keys (as stored in checkpoints), defaults elsewhere. */
    public static ModelConfig of(java.util.Map<String, String> keys) {
        java.util.List<String> sets = new java.util.ArrayList<>();
        keys.forEach((k, v) -> sets.add(k + "=" + v));
        return read(new ConfigReader(ConfigLoader.load(null, sets)));
    }

    static ModelConfig read(ConfigReader r) {
        int image = r.intValue("model.image-size", 1, 8192);
        int patch = r.intValue("model.patch-size", 1, 1024);
        if (image % patch != 0) {
            throw r.invalid("model.patch-size", "does not divide model.image-size = " + image);
        }
        int width = r.intValue("model.encoder.width", 4, 1 << 16);
        int heads = r.intValue("model.encoder.heads", 1, 1024);
        checkWidth(r, "model.encoder", width, heads);
        Encoder enc = new Encoder(width, r.intValue("model.encoder.depth", 1, 1024), heads,
                r.intValue("model.encoder.mlp-ratio", 1, 64), r.doubleValue("model.encoder.drop-path", 0, 0.99));
        int dWidth = r.intValue("model.decoder.width", 4, 1 << 16);
        int dHeads = r.intValue("model.decoder.heads", 1, 1024);
        checkWidth(r, "model.decoder", dWidth, dHeads);
        Decoder dec = new Decoder(dWidth, dHeads, r.intValue("model.decoder.projector-depth", 0, 1024),
                r.intValue("model.decoder.predictor-depth", 1, 1024),
                r.enumValue("model.decoder.norm", NormKind.class));
        return new ModelConfig(image, patch, enc, dec);
    }

    private static void checkWidth(ConfigReader r, String section, int width, int heads) {
        if (width % heads != 0) {
            throw r.invalid(section + ".heads", "does not divide " + section + ".width = " + width);
        }
        if (width % 4 != 0) {
            throw r.invalid(section + ".width", "must be a multiple of 4 (2-D sin-cos position tables)");
        }
    }
}
