package siameseim.metrics;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.mllib.linalg.Matrix;
import org.apache.spark.mllib.linalg.Vector;
import org.apache.spark.mllib.linalg.Vectors;
import org.apache.spark.mllib.linalg.distributed.RowMatrix;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;
import scala.Tuple2;
import siameseim.files.UserFiles;

/**
 * A picture of feature vectors: each set projected on its own first two principal components
 * (MLlib's {@link RowMatrix#computePrincipalComponentsAndExplainedVariance}), one scatter panel per
 * set, points coloured by class, the panels side by side in one PNG (XChart).
 */
public final class FeatureMap {
    /** Categorical colours (Tableau 10), repeated with another marker beyond ten classes. */
    private static final Color[] COLOURS = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
        new Color(0xd62728), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f),
        new Color(0xbcbd22), new Color(0x17becf)};

    /** One panel: a title and n x dim features (row-major). */
    public record Panel(String title, float[] features, int dim) {}

    private FeatureMap() {}

    static {
        System.setProperty("java.awt.headless", "true");
    }

    /** Writes the panels to {@code file}; {@code labels} index {@code classes}. */
    public static void writePca(JavaSparkContext jsc, Configuration conf, Path file, String title, List<Panel> panels,
            int[] labels, List<String> classes) throws IOException {
        List<BufferedImage> images = new ArrayList<>();
        for (int i = 0; i < panels.size(); i++) {
            images.add(BitmapEncoder.getBufferedImage(chart(jsc, panels.get(i), labels, classes,
                    i == panels.size() - 1)));
        }
        int titleHeight = 36;
        int width = images.stream().mapToInt(BufferedImage::getWidth).sum();
        int height = titleHeight + images.stream().mapToInt(BufferedImage::getHeight).max().orElse(0);
        BufferedImage all = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = all.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setColor(Color.BLACK);
        g.setFont(g.getFont().deriveFont(java.awt.Font.BOLD, 16f));
        g.drawString(title, 12, 24);
        int x = 0;
        for (BufferedImage im : images) {
            g.drawImage(im, x, titleHeight, null);
            x += im.getWidth();
        }
        g.dispose();
        try (OutputStream os = UserFiles.create(file, conf)) {
            ImageIO.write(all, "png", os);
        }
    }

    /** The rows of a panel on its first two principal components, and the variance share of each. */
    record Projection(double[] pc1, double[] pc2, double share1, double share2) {}

    static Projection project(JavaSparkContext jsc, Panel p) {
        int n = p.features().length / p.dim();
        List<Vector> rows = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            double[] v = new double[p.dim()];
            for (int j = 0; j < v.length; j++) {
                v[j] = p.features()[i * p.dim() + j];
            }
            rows.add(Vectors.dense(v));
        }
        RowMatrix m = new RowMatrix(jsc.parallelize(rows, 1).rdd());
        Tuple2<Matrix, Vector> pca = m.computePrincipalComponentsAndExplainedVariance(2);
        Matrix pc = pca._1();
        double[] mean = m.computeColumnSummaryStatistics().mean().toArray();
        double[] a = new double[n];
        double[] b = new double[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < p.dim(); j++) {
                double v = p.features()[i * p.dim() + j] - mean[j];
                a[i] += v * pc.apply(j, 0);
                b[i] += v * pc.apply(j, 1);
            }
        }
        return new Projection(a, b, pca._2().apply(0), pca._2().apply(1));
    }

    private static XYChart chart(JavaSparkContext jsc, Panel p, int[] labels, List<String> classes, boolean legend) {
        Projection pr = project(jsc, p);
        XYChart c = new XYChartBuilder().width(legend ? 760 : 600).height(560).title(p.title())
                .xAxisTitle(String.format(Locale.ROOT, "PC 1 (%.0f%% of the variance)", 100 * pr.share1()))
                .yAxisTitle(String.format(Locale.ROOT, "PC 2 (%.0f%%)", 100 * pr.share2())).build();
        c.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        c.getStyler().setMarkerSize(5);
        c.getStyler().setLegendVisible(legend);
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        for (int k = 0; k < classes.size(); k++) {
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] == k) {
                    xs.add(pr.pc1()[i]);
                    ys.add(pr.pc2()[i]);
                }
            }
            if (xs.isEmpty()) {
                continue;
            }
            XYSeries s = c.addSeries(classes.get(k), xs, ys);
            s.setMarkerColor(COLOURS[k % COLOURS.length]);
            s.setMarker(k < COLOURS.length ? SeriesMarkers.CIRCLE : SeriesMarkers.DIAMOND);
        }
        return c;
    }
}
