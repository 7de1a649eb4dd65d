package siameseim.datasets.loader;

import java.io.IOException;
import java.util.Iterator;

/** Where a replica's samples come from: a dataset of known size that streams an epoch's share. */
public interface SampleSource {

    /** Samples in the dataset. */
    int size();

    /**
     * The samples at positions {@code [from, to)} of the epoch's order (see {@link EpochOrder}),
     * in that order. The iterator may read ahead in the background; close it when done.
     */
    Feed open(long epoch, long seed, long from, long to) throws IOException;

    /** An epoch share being streamed. */
    interface Feed extends Iterator<RawSample>, AutoCloseable {
        @Override
        void close();
    }
}
