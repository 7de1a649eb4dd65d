package siameseim.ml;

import java.util.List;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.DoubleArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import siameseim.config.AugmentConfig;
import siameseim.config.ConfigLoader;

/**
 * The params of {@link ImageEmbedder} and their defaults: the evaluation transform of
 * {@code conf/reference.conf} (bicubic resize, its normalisation, the OpenCV decoder), mean-pooled
 * patch tokens, no normalisation. The few-shot evaluation sets CLS, bilinear and centre+l2.
 */
public abstract class ImageEmbedderParams extends Transformer {
    private static final long serialVersionUID = 1L;

    private final String uid;
    // created in the constructor, after the uid they belong to
    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final Param<String> weights;
    private final Param<String> architecture;
    private final LongParam seed;
    private final Param<String> pooling;
    private final Param<String> normalize;
    private final Param<String> resize;
    private final Param<String> decoder;
    private final Param<String> precision;
    private final DoubleArrayParam mean;
    private final DoubleArrayParam std;
    private final IntParam batchSize;
    private final IntParam threads;

    protected ImageEmbedderParams(String uid) {
        this.uid = uid;
        inputCol = new Param<>(this, "inputCol", "encoded image bytes or an image struct");
        outputCol = new Param<>(this, "outputCol", "the embedding (ML Vector)");
        weights = new Param<>(this, "weights", "the encoder: a checkpoint or safetensors file --weights accepts;"
                + " unset: a random initialisation (seed) of the architecture, for baselines");
        architecture = new Param<>(this, "architecture",
                "the model keys (JSON) when the weights do not carry them; empty: from the weights' metadata");
        seed = new LongParam(this, "seed", "the random initialisation's seed when no weights are set");
        pooling = new Param<>(this, "pooling", "mean-patch or cls", ParamValidators.inArray(new String[] {
            "mean-patch", "cls"}));
        normalize = new Param<>(this, "normalize", "none, l2 (unit length) or centre+l2 (each vector centred on its"
                + " own mean, then unit length)", ParamValidators.inArray(Normalization.NAMES));
        resize = new Param<>(this, "resize", "the resize filter of the evaluation transform: bicubic or bilinear",
                ParamValidators.inArray(new String[] {"bicubic", "bilinear"}));
        decoder = new Param<>(this, "decoder", "opencv or imageio", ParamValidators.inArray(new String[] {"opencv",
            "imageio"}));
        precision = new Param<>(this, "precision", "the encoder's forward pass: fp32, fp16-mixed (autocast, as in"
                + " training) or auto (fp16-mixed on a task's GPU where autocast works, else fp32)",
                ParamValidators.inArray(new String[] {"fp32", "fp16-mixed", "auto"}));
        mean = new DoubleArrayParam(this, "mean", "per-channel mean (RGB, 0..1) the images are normalised with");
        std = new DoubleArrayParam(this, "std", "per-channel standard deviation (RGB, 0..1)");
        batchSize = new IntParam(this, "batchSize", "images per encoder call", ParamValidators.gtEq(1));
        threads = new IntParam(this, "threads", "intra-op threads of a task on the CPU (train.threads); 0: PyTorch's"
                + " count", ParamValidators.gtEq(0));
        AugmentConfig reference = ConfigLoader.loadPretrain(null, List.of()).augment();
        setDefault(inputCol, "content");
        setDefault(outputCol, "embedding");
        setDefault(architecture, "");
        setDefault(seed, 0L);
        setDefault(pooling, "mean-patch");
        setDefault(normalize, "none");
        setDefault(resize, "bicubic");
        setDefault(decoder, "opencv");
        setDefault(precision, "fp32");
        setDefault(mean, reference.mean());
        setDefault(std, reference.std());
        setDefault(batchSize, 32);
        setDefault(threads, 0);
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> inputCol() {
        return inputCol;
    }

    public Param<String> outputCol() {
        return outputCol;
    }

    public Param<String> weights() {
        return weights;
    }

    public Param<String> architecture() {
        return architecture;
    }

    public LongParam seed() {
        return seed;
    }

    public Param<String> pooling() {
        return pooling;
    }

    public Param<String> normalize() {
        return normalize;
    }

    public Param<String> resize() {
        return resize;
    }

    public Param<String> decoder() {
        return decoder;
    }

    public Param<String> precision() {
        return precision;
    }

    public DoubleArrayParam mean() {
        return mean;
    }

    public DoubleArrayParam std() {
        return std;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    public IntParam threads() {
        return threads;
    }
}
