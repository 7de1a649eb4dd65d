package siameseim.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.testing.LocalSpark;

class FeatureMapTest {
    static SparkSession spark;
    static JavaSparkContext jsc;
    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start();
        jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /**
     * n points of a plane in 6-D: t along (1,2,0,0,0,0), s/10 along (0,0,1,0,0,0), tiny noise; t
     * and s centred and uncorrelated, so the principal axes are exactly those two directions.
     */
    static FeatureMap.Panel plane(int n, double[] t, double[] s) {
        SplittableRandom rng = new SplittableRandom(1);
        for (int i = 0; i < n; i++) {
            t[i] = rng.nextGaussian();
            s[i] = rng.nextGaussian();
        }
        centre(t);
        centre(s);
        double ts = 0;
        double tt = 0;
        for (int i = 0; i < n; i++) {
            ts += t[i] * s[i];
            tt += t[i] * t[i];
        }
        for (int i = 0; i < n; i++) {
            s[i] -= ts / tt * t[i];
        }
        float[] f = new float[n * 6];
        for (int i = 0; i < n; i++) {
            f[i * 6] = (float) (5 + t[i]);
            f[i * 6 + 1] = (float) (-3 + 2 * t[i]);
            f[i * 6 + 2] = (float) (0.1 * s[i]);
            for (int j = 3; j < 6; j++) {
                f[i * 6 + j] = (float) (1e-4 * rng.nextGaussian());
            }
        }
        return new FeatureMap.Panel("plane", f, 6);
    }

    static void centre(double[] x) {
        double mean = java.util.Arrays.stream(x).average().orElse(0);
        for (int i = 0; i < x.length; i++) {
            x[i] -= mean;
        }
    }

    @Test
    void principalComponentsRecoverThePlaneInItsOrder() {
        int n = 200;
        double[] t = new double[n];
        double[] s = new double[n];
        FeatureMap.Projection p = FeatureMap.project(jsc, plane(n, t, s));
        // PC 1 is +-sqrt(5) t, PC 2 is +-0.1 s; the rest of the variance is noise
        double dot1 = 0;
        double dot2 = 0;
        for (int i = 0; i < n; i++) {
            dot1 += p.pc1()[i] * t[i];
            dot2 += p.pc2()[i] * s[i];
        }
        double sign1 = Math.signum(dot1);
        double sign2 = Math.signum(dot2);
        for (int i = 0; i < n; i++) {
            assertEquals(sign1 * Math.sqrt(5) * t[i], p.pc1()[i], 1e-3);
            assertEquals(sign2 * 0.1 * s[i], p.pc2()[i], 1e-3);
        }
        assertTrue(p.share1() > 0.99 && p.share1() + p.share2() > 0.9999, p.share1() + " " + p.share2());
    }

    @Test
    void writesOnePngWithThePanelsSideBySide() throws Exception {
        int n = 60;
        FeatureMap.Panel a = plane(n, new double[n], new double[n]);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 3;
        }
        Path file = tmp.resolve("plots/features-pca.png");
        FeatureMap.writePca(jsc, new Configuration(), new org.apache.hadoop.fs.Path(file.toString()), "two panels",
                List.of(a, new FeatureMap.Panel("again", a.features(), 6)), labels, List.of("x", "y", "z"));
        BufferedImage img = ImageIO.read(file.toFile());
        assertEquals(600 + 760, img.getWidth(), "a panel, then one with the class legend");
        assertEquals(36 + 560, img.getHeight(), "the title row above the panels");
    }
}
