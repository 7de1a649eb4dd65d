package siameseim.model.optim;

/**
 * Per-iteration learning rate (spec 4): linear warmup from 0 over {@code warmup} epochs, then a
 * half-cosine to {@code min} at {@code epochs}. Epochs are fractional (iteration / iterations
 * per epoch), as in the reference's adjust_learning_rate.
 */
public record LrSchedule(double peak, double min, double warmup, double epochs) {

    public double at(double epoch) {
        if (epoch < warmup) {
            return peak * epoch / warmup;
        }
        if (epochs <= warmup) {
            return peak;
        }
        double progress = Math.min(1.0, (epoch - warmup) / (epochs - warmup));
        return min + (peak - min) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
