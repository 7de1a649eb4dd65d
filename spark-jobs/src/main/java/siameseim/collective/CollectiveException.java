package siameseim.collective;

/** A collective operation failed: a peer was lost, timed out, or sent something invalid. */
public final class CollectiveException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CollectiveException(String message) {
        super(message);
    }

    public CollectiveException(String message, Throwable cause) {
        super(message, cause);
    }
}
