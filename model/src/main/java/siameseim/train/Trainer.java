package siameseim.train;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import siameseim.checkpoint.CheckpointFormat;
import siameseim.model.nn.Module;

/** What the distributed runner needs of a replica's trainer (pretraining or fine-tuning). */
public interface Trainer extends AutoCloseable {
    /** Optimizer steps done. */
    long step();

    /** Every tensor of the replica (checked identical across replicas). */
    Module model();

    /** Trainable elements (the size of the gradient all-reduce). */
    default long gradientSize() {
        return model().trainableSize();
    }

    /** Writes a checkpoint of the full training state. */
    void save(OutputStream out) throws IOException;

    /** Restores the full training state; returns the checkpoint's progress. */
    CheckpointFormat.Progress restore(InputStream in, String source) throws IOException;

    @Override
    void close();
}
