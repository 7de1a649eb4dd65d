package siameseim.datasets.loader;

import java.util.NoSuchElementException;
import siameseim.datasets.image.ImageSource;

/** Decoded images in memory: the epoch order is a full permutation. */
public final class InMemorySource implements SampleSource {
    private final ImageSource images;

    public InMemorySource(ImageSource images) {
        this.images = images;
    }

    @Override
    public int size() {
        return images.size();
    }

    @Override
    public Feed open(long epoch, long seed, long from, long to) {
        int n = images.size();
        int[] order = EpochOrder.of(new long[] {n}, seed, epoch, n, 1);
        return new Feed() {
            long pos = from;

            @Override
            public boolean hasNext() {
                return pos < to;
            }

            @Override
            public RawSample next() {
                if (pos >= to) {
                    throw new NoSuchElementException();
                }
                int id = order[(int) pos++];
                return new RawSample(id, images.label(id), null, images.image(id));
            }

            @Override
            public void close() {}
        };
    }
}
