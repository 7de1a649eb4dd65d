package siameseim.datasets.decode;

/** An image that cannot be used, with a reason a data engineer can act on. */
public final class BadImageException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why an image was refused (the bad-file report groups by this). */
    public enum Reason {
        EMPTY,
        NOT_AN_IMAGE,
        TRUNCATED,
        TOO_LARGE,
        CORRUPT,
        UNREADABLE
    }

    private final Reason reason;

    public BadImageException(Reason reason, String detail) {
        super(detail);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
