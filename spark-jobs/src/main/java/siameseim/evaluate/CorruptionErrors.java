package siameseim.evaluate;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * ImageNet-C's summary (Hendrycks and Dietterich, "Benchmarking Neural Network Robustness to
 * Common Corruptions and Perturbations", ICLR 2019, section 3): the corruption error of a model f
 * on corruption c is CE_c = (sum over severities s of E_{s,c}(f)) / (sum over s of
 * E_{s,c}(AlexNet)), with E the top-1 error; mCE is the mean of CE_c over the 15 corruptions, and
 * the paper reports robustness as 1 - mCE. The AlexNet errors below are the per-corruption
 * averages over the five severities published with the benchmark (github.com/hendrycks/robustness,
 * ImageNet-C); the average is the sum divided by 5, so the ratio is the same.
 */
public final class CorruptionErrors {
    /** AlexNet's top-1 error on each corruption, averaged over severities 1 to 5 (Hendrycks and Dietterich 2019). */
    public static final Map<String, Double> ALEXNET = Map.ofEntries(
            Map.entry("gaussian_noise", 0.886428), Map.entry("shot_noise", 0.894468),
            Map.entry("impulse_noise", 0.922640), Map.entry("defocus_blur", 0.819880),
            Map.entry("glass_blur", 0.826268), Map.entry("motion_blur", 0.785948),
            Map.entry("zoom_blur", 0.798360), Map.entry("snow", 0.866816), Map.entry("frost", 0.826572),
            Map.entry("fog", 0.819324), Map.entry("brightness", 0.564592), Map.entry("contrast", 0.853204),
            Map.entry("elastic_transform", 0.646056), Map.entry("pixelate", 0.717840),
            Map.entry("jpeg_compression", 0.606500));

    private CorruptionErrors() {}

    /** One corruption: its top-1 error per severity (1..5, as found), its mean error and its CE. */
    public record Corruption(String name, Map<Integer, Double> errorBySeverity, double meanError, double ce) {}

    /** The summary: per corruption, mCE over the 15 benchmark corruptions present, and 1 - mCE. */
    public record Summary(List<Corruption> corruptions, double mce, int counted, List<String> extra) {
        public double robustness() {
            return 1 - mce;
        }
    }

    /**
     * @param errors top-1 error by corruption name, then severity
     * @throws IllegalArgumentException when a benchmark corruption lacks one of the five severities
     *     (CE needs all five, as AlexNet's reference does)
     */
    public static Summary summarise(Map<String, Map<Integer, Double>> errors) {
        List<Corruption> out = new java.util.ArrayList<>();
        List<String> extra = new java.util.ArrayList<>();
        double sum = 0;
        int counted = 0;
        for (Map.Entry<String, Map<Integer, Double>> e : new TreeMap<>(errors).entrySet()) {
            Map<Integer, Double> bySeverity = new TreeMap<>(e.getValue());
            double mean = bySeverity.values().stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
            Double alex = ALEXNET.get(e.getKey());
            double ce = Double.NaN;
            if (alex == null) {
                extra.add(e.getKey()); // e.g. the 4 held-out corruptions (speckle_noise, ...): reported, not in mCE
            } else {
                if (!bySeverity.keySet().equals(java.util.Set.of(1, 2, 3, 4, 5))) {
                    throw new IllegalArgumentException("corruption " + e.getKey() + " has severities "
                            + bySeverity.keySet() + "; its CE needs all of 1 to 5");
                }
                ce = mean / alex;
                sum += ce;
                counted++;
            }
            out.add(new Corruption(e.getKey(), new LinkedHashMap<>(bySeverity), mean, ce));
        }
        return new Summary(out, counted == 0 ? Double.NaN : sum / counted, counted, extra);
    }
}
