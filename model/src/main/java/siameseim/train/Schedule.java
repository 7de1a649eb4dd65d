package siameseim.train;

import siameseim.config.ConfigError;

/**
 * A run's length in optimizer steps: the global batch, steps per epoch (drop-last: whole global
 * batches of the split) and total steps ({@code epochs} of them, rounded up, at most
 * {@code train.max-steps}). The driver and every replica compute it with this one record.
 */
public record Schedule(int globalBatch, long stepsPerEpoch, long totalSteps) {

    /**
     * @param batchKey the config key of the global batch, named when the split is smaller than one
     * @param maxSteps train.max-steps (0: no limit)
     */
    public static Schedule of(long images, int globalBatch, double epochs, long maxSteps, String batchKey,
            String split) {
        long perEpoch = images / globalBatch;
        if (perEpoch < 1) {
            throw new ConfigError(batchKey, "value " + globalBatch + " exceeds the " + images + " images of " + split);
        }
        long total = (long) Math.ceil(epochs * perEpoch);
        return new Schedule(globalBatch, perEpoch, maxSteps > 0 ? Math.min(total, maxSteps) : total);
    }

    /** The fractional epoch after {@code step} steps. */
    public double epoch(long step) {
        return (double) step / stepsPerEpoch;
    }
}
