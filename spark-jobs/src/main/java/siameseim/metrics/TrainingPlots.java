package siameseim.metrics;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import siameseim.files.UserFiles;

/**
 * PNG plots of a run (XChart), written to {@code <run>/plots/} on any Hadoop file system:
 * {@code loss.png}, {@code lr.png}, {@code throughput.png} (images/s and all-reduce share) and,
 * when there are evaluations, {@code eval.png} (top-1/top-5 over steps).
 */
public final class TrainingPlots {
    private TrainingPlots() {}

    static {
        System.setProperty("java.awt.headless", "true");
    }

    /** Writes every plot that has data; returns the files written. */
    public static List<Path> write(MetricsHistory h, Configuration conf, Path dir, String title) throws IOException {
        Map<String, byte[]> png = new LinkedHashMap<>();
        chart(png, "loss.png", title + ": loss", "loss", h, Map.of("train/loss", "loss"), false);
        chart(png, "lr.png", title + ": learning rate", "lr", h, Map.of("train/lr", "lr"), false);
        chart(png, "throughput.png", title + ": throughput", "images/s", h,
                Map.of("train/images_per_second", "images/s"), false);
        chart(png, "allreduce.png", title + ": all-reduce share of the step", "share", h,
                Map.of("train/allreduce_share", "all-reduce / step time"), false);
        Map<String, String> evals = new LinkedHashMap<>();
        evals.put("eval/knn_top1", "kNN top-1");
        evals.put("eval/top1", "top-1");
        evals.put("eval/top5", "top-5");
        chart(png, "eval.png", title + ": evaluation", "accuracy", h, evals, true);
        List<Path> out = new java.util.ArrayList<>();
        for (Map.Entry<String, byte[]> e : png.entrySet()) {
            Path p = new Path(dir, e.getKey());
            try (OutputStream os = UserFiles.create(p, conf)) {
                os.write(e.getValue());
            }
            out.add(p);
        }
        return out;
    }

    private static void chart(Map<String, byte[]> out, String file, String title, String yAxis, MetricsHistory h,
            Map<String, String> tags, boolean markers) throws IOException {
        XYChart c = new XYChartBuilder().width(800).height(450).title(title).xAxisTitle("step").yAxisTitle(yAxis)
                .build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        c.getStyler().setLegendVisible(tags.size() > 1);
        boolean any = false;
        for (Map.Entry<String, String> t : tags.entrySet()) {
            List<double[]> s = h.series(t.getKey());
            if (s.isEmpty()) {
                continue;
            }
            double[] x = new double[s.size()];
            double[] y = new double[s.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = s.get(i)[0];
                y[i] = s.get(i)[1];
            }
            XYSeries series = c.addSeries(t.getValue(), x, y);
            if (!markers) {
                series.setMarker(org.knowm.xchart.style.markers.SeriesMarkers.NONE);
            }
            any = true;
        }
        if (!any) {
            return;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BitmapEncoder.saveBitmap(c, bytes, BitmapEncoder.BitmapFormat.PNG);
        out.put(file, bytes.toByteArray());
    }
}
