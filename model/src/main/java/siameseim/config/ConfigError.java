package siameseim.config;

/**
 * A configuration problem, reported as one line naming the key, the value and where it came from.
 * Thrown before any model, Spark stage or file is touched.
 */
public final class ConfigError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String key;

    public ConfigError(String key, String message) {
        super("config key '" + key + "': " + message);
        this.key = key;
    }

    public ConfigError(String message) {
        super(message);
        this.key = null;
    }

    /** The offending key, or null when the problem is not tied to one key. */
    public String key() {
        return key;
    }
}
