package siameseim.evaluate;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.InputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import siameseim.checkpoint.CheckpointFormat;
import siameseim.config.FeaturePool;
import siameseim.config.PretrainConfig;
import siameseim.datasets.augment.Resampler;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.image.PackedImages;
import siameseim.datasets.loader.ShardImages;
import siameseim.datasets.shards.Manifest;
import siameseim.model.nn.Torch;
import siameseim.model.siameseim.SiameseIM;
import siameseim.datasets.augment.EvalTransform;
import siameseim.datasets.image.ImageSource;
import siameseim.eval.FeatureExtractor;
import siameseim.eval.Knn;

/** Frozen-encoder kNN accuracy on labelled in-process image sets (no Spark). */
public final class KnnProbe {
    /** The demo's report: a random encoder against a pretrained one, on the same images. */
    public record Comparison(Knn.Accuracy random, Knn.Accuracy pretrained, int train, int test) {}
    private static final int CHUNK = 256;

    private KnnProbe() {}

    public static Knn.Accuracy run(FeatureExtractor features, EvalTransform transform, ImageSource train,
            ImageSource test, int classes, int k, double temperature, NDManager manager) {
        return Knn.evaluate(extract(features, transform, train, manager), labels(train),
                extract(features, transform, test, manager), labels(test), features.dimension(), classes, k,
                temperature);
    }

    /**
     * kNN (k 20, T 0.07, mean-pooled patch tokens) of the val split against the train split of a
     * prepared dataset, for a randomly initialised encoder (train.seed) and for the online encoder
     * of {@code checkpoint}.
     */
    public static Comparison randomVsPretrained(Configuration conf, PretrainConfig cfg, String checkpoint)
            throws IOException {
        Torch.init(2);
        Path dataset = new Path(cfg.data().path());
        Manifest m = Manifest.read(conf, dataset);
        ImageDecoder dec = ImageDecoder.named(cfg.data().decoder());
        PackedImages train = ShardImages.load(conf, dataset, m, "train", dec, 0);
        PackedImages val = ShardImages.load(conf, dataset, m, "val", dec, 0);
        EvalTransform tf = new EvalTransform(cfg.model().imageSize(), Resampler.Filter.BICUBIC, cfg.augment().mean(),
                cfg.augment().std());
        try (NDManager mgr = NDManager.newBaseManager()) {
            SiameseIM random = new SiameseIM(mgr, cfg.model(), cfg.negWeight(), cfg.train().seed());
            Knn.Accuracy before = run(new FeatureExtractor(random.encoder(), FeaturePool.MEAN_PATCH), tf, train, val,
                    m.classes().size(), 20, 0.07, mgr);
            SiameseIM trained = new SiameseIM(mgr, cfg.model(), cfg.negWeight(), cfg.train().seed());
            Path p = new Path(checkpoint);
            try (InputStream in = p.getFileSystem(conf).open(p); NDManager tmp = mgr.newSubManager()) {
                CheckpointFormat.restore(CheckpointFormat.read(in, tmp, checkpoint), trained, null);
            }
            Knn.Accuracy after = run(new FeatureExtractor(trained.encoder(), FeaturePool.MEAN_PATCH), tf, train, val,
                    m.classes().size(), 20, 0.07, mgr);
            return new Comparison(before, after, train.size(), val.size());
        }
    }

    /** Features of every image of {@code src}, n x D row-major. */
    public static float[] extract(FeatureExtractor features, EvalTransform transform, ImageSource src,
            NDManager manager) {
        int n = src.size();
        int d = features.dimension();
        int s = transform.size();
        int pixels = 3 * s * s;
        float[] out = new float[n * d];
        for (int start = 0; start < n; start += CHUNK) {
            int count = Math.min(CHUNK, n - start);
            float[] batch = new float[count * pixels];
            for (int i = 0; i < count; i++) {
                transform.apply(src.image(start + i), batch, i * pixels);
            }
            float[] f = features.extract(batch, count, s, manager);
            System.arraycopy(f, 0, out, start * d, f.length);
        }
        return out;
    }

    static int[] labels(ImageSource src) {
        int[] l = new int[src.size()];
        for (int i = 0; i < l.length; i++) {
            l[i] = src.label(i);
        }
        return l;
    }
}
