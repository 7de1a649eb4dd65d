package siameseim.model.io;

import java.io.IOException;

/**
 * A file that was read completely but is not what it should be: truncated, not the format, a
 * wrong version or a failed checksum. Distinct from a storage error (a file system that cannot be
 * read right now): a corrupt checkpoint is skipped on resume, a storage error stops the attempt.
 */
public class CorruptFileException extends IOException {
    private static final long serialVersionUID = 1L;

    public CorruptFileException(String message) {
        super(message);
    }
}
