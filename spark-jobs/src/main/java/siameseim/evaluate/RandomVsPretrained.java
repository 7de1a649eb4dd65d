package siameseim.evaluate;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import siameseim.checkpoint.CheckpointFormat;
import siameseim.config.EvalConfig;
import siameseim.config.FeaturePool;
import siameseim.config.PretrainConfig;
import siameseim.datasets.augment.EvalTransform;
import siameseim.datasets.augment.Resampler;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.image.ImageSource;
import siameseim.datasets.image.PackedImages;
import siameseim.datasets.loader.ShardImages;
import siameseim.datasets.shards.Manifest;
import siameseim.eval.FeatureExtractor;
import siameseim.eval.Knn;
import siameseim.model.nn.Torch;
import siameseim.model.siameseim.SiameseIM;

/**
 * The demo's evaluation (no Spark): the train and val splits of a prepared dataset through a
 * randomly initialised encoder (train.seed) and through the online encoder of a checkpoint, each
 * scored on the val split by kNN (eval.knn's k and temperature, the train split as neighbours) and
 * by the linear probe of spec 5.3 ({@link LinearProbeTrainer} on one replica, eval.linear's
 * schedule, trained on the train split). Mean-pooled patch tokens of the centre crop, extracted
 * once per encoder; the val features come back for a picture of them.
 */
public final class RandomVsPretrained {
    private static final int CHUNK = 256;

    /** One encoder's scores and its val features (n x dim, row-major). */
    public record Scores(Knn.Accuracy knn, double linear, float[] testFeatures) {}

    /** Both encoders on the same images; {@code testLabels} index {@code classes}. */
    public record Result(Scores random, Scores pretrained, int[] testLabels, List<String> classes, int train,
            int test, int dim) {}

    private RandomVsPretrained() {}

    public static Result run(Configuration conf, PretrainConfig cfg, String checkpoint) throws IOException {
        Torch.init(2);
        Path dataset = new Path(cfg.data().path());
        Manifest m = Manifest.read(conf, dataset);
        ImageDecoder dec = ImageDecoder.named(cfg.data().decoder());
        PackedImages train = ShardImages.load(conf, dataset, m, "train", dec, 0);
        PackedImages val = ShardImages.load(conf, dataset, m, "val", dec, 0);
        EvalTransform tf = new EvalTransform(cfg.model().imageSize(), Resampler.Filter.BICUBIC, cfg.augment().mean(),
                cfg.augment().std());
        int[] trainLabels = labels(train);
        int[] valLabels = labels(val);
        try (NDManager mgr = NDManager.newBaseManager()) {
            SiameseIM random = new SiameseIM(mgr, cfg.model(), cfg.negWeight(), cfg.train().seed());
            FeatureExtractor before = new FeatureExtractor(random.encoder(), FeaturePool.MEAN_PATCH);
            Scores r = score(cfg.eval(), before, tf, train, trainLabels, val, valLabels, m.classes().size(), mgr);
            SiameseIM trained = new SiameseIM(mgr, cfg.model(), cfg.negWeight(), cfg.train().seed());
            Path p = new Path(checkpoint);
            try (InputStream in = p.getFileSystem(conf).open(p); NDManager tmp = mgr.newSubManager()) {
                CheckpointFormat.restore(CheckpointFormat.read(in, tmp, checkpoint), trained, null);
            }
            FeatureExtractor after = new FeatureExtractor(trained.encoder(), FeaturePool.MEAN_PATCH);
            Scores t = score(cfg.eval(), after, tf, train, trainLabels, val, valLabels, m.classes().size(), mgr);
            return new Result(r, t, valLabels, m.classes(), train.size(), val.size(), before.dimension());
        }
    }

    private static Scores score(EvalConfig ev, FeatureExtractor encoder, EvalTransform tf, PackedImages train,
            int[] trainLabels, PackedImages test, int[] testLabels, int classes, NDManager mgr) {
        int d = encoder.dimension();
        float[] tr = extract(encoder, tf, train, mgr);
        float[] te = extract(encoder, tf, test, mgr);
        Knn.Accuracy knn = Knn.evaluate(tr, trainLabels, te, testLabels, d, classes, ev.knn().k(),
                ev.knn().temperature());
        LinearProbeTrainer.Head head = LinearProbeTrainer.train(ev.linear(), rows(tr, trainLabels, d), d, classes,
                trainLabels.length, null, ev.seed());
        double linear = LinearProbeTrainer.accuracy(head, rows(te, testLabels, d));
        return new Scores(knn, linear, te);
    }

    private static List<FeatureRow> rows(float[] features, int[] labels, int d) {
        List<FeatureRow> out = new ArrayList<>(labels.length);
        for (int i = 0; i < labels.length; i++) {
            out.add(new FeatureRow(Integer.toString(i), labels[i],
                    java.util.Arrays.copyOfRange(features, i * d, (i + 1) * d)));
        }
        return out;
    }

    /** Features of every image of {@code src}, n x D row-major. */
    private static float[] extract(FeatureExtractor features, EvalTransform transform, ImageSource src,
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

    private static int[] labels(ImageSource src) {
        int[] l = new int[src.size()];
        for (int i = 0; i < l.length; i++) {
            l[i] = src.label(i);
        }
        return l;
    }
}
