package siameseim.ml;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;
import siameseim.checkpoint.Encoders;
import siameseim.config.FeaturePool;
import siameseim.config.ModelConfig;
import siameseim.datasets.augment.Resampler;
import siameseim.model.io.WeightsFile;
import siameseim.spark.SparkSessions;

/**
 * A Spark ML {@link Transformer} that appends each image's embedding under a frozen SiameseIM
 * encoder as an ML {@link Vector}. The input column holds encoded image bytes (the
 * {@code binaryFile} source's {@code content}, or any binary column) or the struct of Spark's
 * {@code image} source. Images go through the evaluation transform (resize to size / 0.875,
 * bicubic or bilinear, centre crop, normalise) and the encoder in batches, on the task's GPU
 * where Spark assigned one; the embedding is the mean of the patch tokens or the CLS token, as it
 * is, L2-normalised, or centred and L2-normalised (the few-shot protocol); an image that cannot be
 * decoded gets a null vector. Params: {@link ImageEmbedderParams}. One encoder per executor JVM
 * and device, shared by its tasks ({@link Encoders#cached}). Saved with its weights
 * ({@link #write}): a {@code PipelineModel} holding it loads on another cluster.
 */
public final class ImageEmbedder extends ImageEmbedderParams implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;
    /** The copy of the weights in a saved model, named after its format (which is told by content). */
    private static final String WEIGHTS_FILE = "weights.safetensors";
    private static final String WEIGHTS_FILE_PTH = "weights.pth";

    public ImageEmbedder() {
        this("imageEmbedder_" + UUID.randomUUID().toString().substring(0, 12));
    }

    public ImageEmbedder(String uid) {
        super(uid);
    }

    public ImageEmbedder setInputCol(String v) {
        set(inputCol(), v);
        return this;
    }

    public ImageEmbedder setOutputCol(String v) {
        set(outputCol(), v);
        return this;
    }

    public ImageEmbedder setWeights(String v) {
        set(weights(), v);
        return this;
    }

    public ImageEmbedder setArchitecture(String json) {
        set(architecture(), json);
        return this;
    }

    public ImageEmbedder setPooling(String v) {
        set(pooling(), v);
        return this;
    }

    /** {@code none}, {@code l2} or {@code centre+l2}. */
    public ImageEmbedder setNormalize(String v) {
        set(normalize(), v);
        return this;
    }

    /** Unit length (l2) or none. */
    public ImageEmbedder setNormalize(boolean v) {
        return setNormalize(v ? "l2" : "none");
    }

    public ImageEmbedder setSeed(long v) {
        set(seed(), v);
        return this;
    }

    /** {@code bicubic} or {@code bilinear}. */
    public ImageEmbedder setResize(String v) {
        set(resize(), v);
        return this;
    }

    /** {@code opencv} or {@code imageio}. */
    public ImageEmbedder setDecoder(String v) {
        set(decoder(), v);
        return this;
    }

    /** The per-channel mean and standard deviation (RGB, 0..1) of the normalisation. */
    public ImageEmbedder setMeanStd(double[] m, double[] s) {
        set(mean(), m);
        set(std(), s);
        return this;
    }

    /** {@code fp32} (the default), {@code fp16-mixed} or {@code auto} (eval.precision's values). */
    public ImageEmbedder setPrecision(String v) {
        set(precision(), v);
        return this;
    }

    public ImageEmbedder setThreads(int v) {
        set(threads(), v);
        return this;
    }

    public ImageEmbedder setBatchSize(int v) {
        set(batchSize(), v);
        return this;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        String in = $(inputCol());
        if (!java.util.Arrays.asList(schema.fieldNames()).contains(in)) {
            throw new IllegalArgumentException("ImageEmbedder: no input column '" + in + "' in " + schema.simpleString());
        }
        DataType t = schema.apply(in).dataType();
        if (!(t instanceof BinaryType) && !isImageStruct(t)) {
            throw new IllegalArgumentException("ImageEmbedder: column '" + in + "' is " + t.simpleString()
                    + ", not encoded image bytes or an image struct");
        }
        if (java.util.Arrays.asList(schema.fieldNames()).contains($(outputCol()))) {
            throw new IllegalArgumentException("ImageEmbedder: output column '" + $(outputCol()) + "' exists already");
        }
        return schema.add($(outputCol()), new VectorUDT(), true);
    }

    private static boolean isImageStruct(DataType t) {
        return t instanceof StructType s && List.of(s.fieldNames()).containsAll(List.of("height", "width",
                "nChannels", "data"));
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema());
        String w = hasWeights() ? $(weights()) : null;
        if (w == null && $(architecture()).isBlank()) {
            throw new IllegalArgumentException("ImageEmbedder: set the weights (setWeights), or the architecture"
                    + " (setArchitecture) for a random initialisation");
        }
        Configuration hadoop = dataset.sparkSession().sparkContext().hadoopConfiguration();
        ImageEmbedding s;
        try {
            s = new ImageEmbedding(w, (Long) getOrDefault(seed()), architecture(hadoop),
                    "cls".equals($(pooling())) ? FeaturePool.CLS : FeaturePool.MEAN_PATCH,
                    Normalization.named($(normalize())), "bilinear".equals($(resize())) ? Resampler.Filter.BILINEAR
                            : Resampler.Filter.BICUBIC, $(decoder()), $(precision()), $(mean()), $(std()),
                    (Integer) getOrDefault(batchSize()), (Integer) getOrDefault(threads()),
                    dataset.schema().fieldIndex($(inputCol())),
                    !(dataset.schema().apply($(inputCol())).dataType() instanceof BinaryType),
                    SparkSessions.hadoopConf(dataset.sparkSession()));
            if (w != null) {
                Encoders.check(ModelConfig.of(s.architecture()), w, hadoop); // on the driver, before a stage
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("ImageEmbedder: " + e.getMessage(), e);
        }
        return dataset.toDF().mapPartitions((MapPartitionsFunction<Row, Row>) s::embed,
                org.apache.spark.sql.Encoders.row(out));
    }

    private boolean hasWeights() {
        return isDefined(weights()) && $(weights()) != null && !$(weights()).isBlank();
    }

    /** The architecture keys: the param, else the weights' metadata (our checkpoints and exports carry it). */
    private Map<String, String> architecture(Configuration conf) throws IOException {
        String json = $(architecture());
        if (json.isBlank()) {
            try (WeightsFile w = WeightsFile.open($(weights()), conf)) {
                json = w.metadata().get("architecture");
            }
            if (json == null) {
                throw new IOException($(weights()) + " does not name its architecture: set it (setArchitecture) as"
                        + " model keys, e.g. {\"model.image-size\": \"224\", \"model.patch-size\": \"16\", ...}");
            }
        }
        Map<String, String> a = new LinkedHashMap<>();
        com.google.gson.JsonParser.parseString(json).getAsJsonObject().entrySet()
                .forEach(e -> a.put(e.getKey(), e.getValue().getAsString()));
        return a;
    }

    @Override
    public ImageEmbedder copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    /** Saves the params and a copy of the weights, so that the saved model is complete on its own. */
    @Override
    public MLWriter write() {
        return new DefaultParamsWriter(this) {
            @Override
            public void saveImpl(String path) {
                super.saveImpl(path);
                if (!hasWeights()) {
                    return; // a random initialisation: the seed and architecture params rebuild it
                }
                try {
                    Configuration conf = sparkSession().sparkContext().hadoopConfiguration();
                    Path src = new Path($(weights()));
                    boolean torch;
                    try (WeightsFile w = WeightsFile.open($(weights()), conf)) {
                        torch = w.isTorch();
                    }
                    Path dst = new Path(path, torch ? WEIGHTS_FILE_PTH : WEIGHTS_FILE);
                    FileUtil.copy(src.getFileSystem(conf), src, dst.getFileSystem(conf), dst, false, conf);
                } catch (IOException e) {
                    throw new IllegalStateException("ImageEmbedder: could not copy " + $(weights()) + " into " + path
                            + ": " + e.getMessage(), e);
                }
            }
        };
    }

    public static MLReader<ImageEmbedder> read() {
        return new DefaultParamsReader<ImageEmbedder>() {
            @Override
            public ImageEmbedder load(String path) {
                ImageEmbedder e = super.load(path);
                Path copy = new Path(path, WEIGHTS_FILE);
                Path pth = new Path(path, WEIGHTS_FILE_PTH);
                try {
                    org.apache.hadoop.fs.FileSystem fs = copy.getFileSystem(sparkSession().sparkContext()
                            .hadoopConfiguration());
                    return fs.exists(copy) ? e.setWeights(copy.toString())
                            : fs.exists(pth) ? e.setWeights(pth.toString()) : e;
                } catch (IOException x) {
                    throw new IllegalStateException("ImageEmbedder: cannot read " + copy + ": " + x.getMessage(), x);
                }
            }
        };
    }

    public static ImageEmbedder load(String path) {
        return read().load(path);
    }
}
