package siameseim.model.siameseim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import siameseim.batch.SiameseBatch;

/** One batch of {@link SiameseIM#forward}'s inputs as tensors. */
public record SiameseInputs(NDArray view1, NDArray view2, NDArray visible, NDArray geometry) {

    /** The tensors of a loader batch, owned by {@code m}. */
    public static SiameseInputs of(SiameseBatch b, NDManager m) {
        Shape img = new Shape(b.size(), 3, b.imageSize(), b.imageSize());
        return new SiameseInputs(m.create(b.view1(), img), m.create(b.view2(), img),
                m.create(b.visible(), new Shape(b.size(), b.visibleCount())), m.create(b.geometry(),
                        new Shape(b.size(), 6)));
    }
}
