package siameseim.datasets.prepare.tar;

import java.util.Iterator;
import java.util.NoSuchElementException;
import siameseim.datasets.prepare.InputImage;

/** An iterator over input images found one step ahead: {@link #advance()} gives the next, or null at the end. */
abstract class Lookahead implements Iterator<InputImage> {
    private InputImage next;
    private boolean ended;

    /** The next image, or null when there is none. */
    protected abstract InputImage advance();

    @Override
    public final boolean hasNext() {
        if (next == null && !ended) {
            next = advance();
            ended = next == null;
        }
        return next != null;
    }

    @Override
    public final InputImage next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        InputImage out = next;
        next = null;
        return out;
    }
}
