package siameseim.datasets.image;

/** A fixed, indexable set of labelled images; {@link #image} must be safe to call from several threads. */
public interface ImageSource {
    int size();

    RgbImage image(int index);

    /** Class index of image {@code index} (-1 when unlabelled). */
    int label(int index);
}
