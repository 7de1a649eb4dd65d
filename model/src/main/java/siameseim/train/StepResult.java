package siameseim.train;

/** What one optimizer step did (all values of this replica; the loss is the local mean). */
public record StepResult(
        long step,
        double epoch,
        double loss,
        double pos,
        double neg,
        double lr,
        double momentum,
        double gradNorm,
        boolean skipped,
        int images,
        double forwardBackwardMs,
        double reduceMs,
        double updateMs) {

    public double totalMs() {
        return forwardBackwardMs + reduceMs + updateMs;
    }
}
