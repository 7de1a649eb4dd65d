package siameseim.datasets.loader;

import java.io.IOException;
import java.util.Iterator;
import java.util.function.IntPredicate;

/** Where a replica's samples come from: a dataset of known size that streams an epoch's share. */
public interface SampleSource {

    /** Samples in the dataset. */
    int size();

    /**
     * The samples at positions {@code [from, to)} of the epoch's order (see {@link EpochOrder}),
     * in that order. The iterator may read ahead in the background; close it when done.
     */
    Feed open(long epoch, long seed, long from, long to) throws IOException;

    /**
     * As {@link #open(long, long, long, long)}, but samples for which {@code held} is true may come
     * without their bytes ({@link RawSample#encoded()} and {@link RawSample#image()} null, id and
     * label set): the caller holds their pixels (a loader's {@link DecodedCache}), so reading them
     * from storage again would be wasted. {@code held} must stay true for an id once it was. A
     * hint: a source that cannot use it serves every sample whole.
     */
    default Feed open(long epoch, long seed, long from, long to, IntPredicate held) throws IOException {
        return open(epoch, seed, from, to);
    }

    /** An epoch share being streamed. */
    interface Feed extends Iterator<RawSample>, AutoCloseable {
        @Override
        void close();
    }
}
