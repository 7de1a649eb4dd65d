package siameseim.model.optim;

/** EMA momentum (spec 2.8): m(e) = 1 - (1 - m0)(1 + cos(pi e / E)) / 2, or m0 when constant. */
public record MomentumSchedule(double base, double epochs, boolean cosine) {

    public double at(double epoch) {
        if (!cosine) {
            return base;
        }
        double progress = Math.min(1.0, epoch / epochs);
        return 1 - (1 - base) * (1 + Math.cos(Math.PI * progress)) / 2;
    }
}
