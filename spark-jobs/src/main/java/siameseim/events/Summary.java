package siameseim.events;

import java.io.Serializable;

/** What one replica of a training run did: the result of its barrier task. */
public record Summary(int rank, long steps, long resumedFrom, double finalLoss, String checkpoint,
        long parameterChecksum, double seconds, double imagesPerSecond, long pid, String placement)
        implements Serializable {}
