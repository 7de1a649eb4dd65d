package siameseim.ml;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import siameseim.checkpoint.Encoders;
import siameseim.config.FeaturePool;
import siameseim.config.ModelConfig;
import siameseim.datasets.augment.EvalTransform;
import siameseim.datasets.augment.Resampler;
import siameseim.datasets.decode.BadImageException;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.image.RgbImage;
import siameseim.config.PretrainConfig;
import siameseim.eval.FeatureExtractor;
import siameseim.train.PrecisionCheck;
import siameseim.spark.SparkSessions;
import siameseim.spark.TaskDevice;

/**
 * The executors' side of {@link ImageEmbedder}: what they need, serialised with the task, and the
 * embedding. The encoder (the weights, or a random initialisation with {@code seed} when there are
 * none) runs on the task's device ({@link TaskDevice#current}).
 */
record ImageEmbedding(String weights, long seed, Map<String, String> architecture, FeaturePool pool,
        Normalization normalization, Resampler.Filter resize, String decoderName, String precision, double[] mean,
        double[] std,
        int batch, int threads, int column, boolean struct, Map<String, String> hadoop) implements Serializable {

    Iterator<Row> embed(Iterator<Row> rows) throws IOException {
        ModelConfig arch = ModelConfig.of(architecture);
        Device device = TaskDevice.current(threads);
        FeatureExtractor fx = new FeatureExtractor(Encoders.cached(arch, weights, seed,
                SparkSessions.rebuild(hadoop), device), pool, PrecisionCheck.forInference(
                        PretrainConfig.Precision.valueOf(precision.toUpperCase(java.util.Locale.ROOT).replace('-', '_')),
                        device));
        EvalTransform tf = new EvalTransform(arch.imageSize(), resize, mean, std);
        ImageDecoder decoder = ImageDecoder.named(decoderName);
        List<Row> out = new ArrayList<>();
        try (NDManager m = NDManager.newBaseManager(device);
                EmbeddingBatches<Row> batches = new EmbeddingBatches<>(fx, tf, batch, m, EmbeddingBatches.Overlap.AUTO,
                        (r, f) -> out.add(withEmbedding(r, f)))) {
            while (rows.hasNext()) {
                Row r = rows.next();
                batches.add(r, image(r, decoder));
            }
            batches.finish();
        }
        return out.iterator();
    }

    /** The row with its embedding appended (null when the image could not be decoded). */
    private Row withEmbedding(Row r, float[] f) {
        Object[] v = new Object[r.length() + 1];
        for (int c = 0; c < r.length(); c++) {
            v[c] = r.get(c);
        }
        v[r.length()] = f == null ? null : Vectors.dense(normalization.apply(f));
        return RowFactory.create(v);
    }

    /** The row's image, or null when it cannot be decoded. */
    private RgbImage image(Row r, ImageDecoder decoder) {
        if (r.isNullAt(column)) {
            return null;
        }
        try {
            if (!struct) {
                return decoder.decode((byte[]) r.get(column), 89_478_485L).image();
            }
            Row s = r.getStruct(column);
            int h = s.getInt(s.fieldIndex("height"));
            int w = s.getInt(s.fieldIndex("width"));
            int ch = s.getInt(s.fieldIndex("nChannels"));
            byte[] data = (byte[]) s.get(s.fieldIndex("data"));
            int n = w * h;
            if (h <= 0 || w <= 0 || ch <= 0 || data == null || data.length < n * ch) {
                return null;
            }
            float[] p = new float[3 * n];
            for (int i = 0; i < n; i++) { // Spark's image source stores BGR(A) or grey, row-major
                float b = data[i * ch] & 0xff;
                p[i] = ch >= 3 ? data[i * ch + 2] & 0xff : b;
                p[n + i] = ch >= 3 ? data[i * ch + 1] & 0xff : b;
                p[2 * n + i] = b;
            }
            return new RgbImage(w, h, p);
        } catch (BadImageException | RuntimeException e) {
            return null;
        }
    }
}
