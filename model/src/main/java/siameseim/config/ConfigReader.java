package siameseim.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValue;
import java.util.List;
import java.util.Locale;

/**
 * Typed, validated reads from a resolved HOCON tree. Every failure becomes a {@link ConfigError}
 * that names the key, the offending value and the file/line it came from.
 */
public final class ConfigReader {
    private final Config config;

    public ConfigReader(Config config) {
        this.config = config;
    }

    public Config config() {
        return config;
    }

    public boolean isNull(String key) {
        return config.getIsNull(key);
    }

    public int intValue(String key, int min, int max) {
        int v;
        try {
            v = config.getInt(key);
        } catch (ConfigException.WrongType | ConfigException.BadValue e) {
            throw wrongType(key, "an integer");
        }
        if (v < min || v > max) {
            throw invalid(key, "must be in [" + min + ", " + max + "]");
        }
        return v;
    }

    public long longValue(String key) {
        try {
            return config.getLong(key);
        } catch (ConfigException.WrongType | ConfigException.BadValue e) {
            throw wrongType(key, "an integer");
        }
    }

    public double doubleValue(String key, double min, double max) {
        double v;
        try {
            v = config.getDouble(key);
        } catch (ConfigException.WrongType | ConfigException.BadValue e) {
            throw wrongType(key, "a number");
        }
        if (!(v >= min && v <= max)) {
            throw invalid(key, "must be in [" + fmt(min) + ", " + fmt(max) + "]");
        }
        return v;
    }

    public boolean booleanValue(String key) {
        try {
            return config.getBoolean(key);
        } catch (ConfigException.WrongType | ConfigException.BadValue e) {
            throw wrongType(key, "true or false");
        }
    }

    public String stringValue(String key) {
        try {
            return config.getString(key);
        } catch (ConfigException.WrongType | ConfigException.BadValue e) {
            throw wrongType(key, "a string");
        }
    }

    public <E extends Enum<E>> E enumValue(String key, Class<E> type) {
        String s = stringValue(key);
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(s.replace('-', '_'))) {
                return e;
            }
        }
        StringBuilder allowed = new StringBuilder();
        for (E e : type.getEnumConstants()) {
            allowed.append(allowed.length() == 0 ? "" : ", ")
                    .append(e.name().toLowerCase(Locale.ROOT).replace('_', '-'));
        }
        throw invalid(key, "must be one of " + allowed);
    }

    /** A list of exactly {@code size} numbers, each in [min, max]. */
    public double[] doubleList(String key, int size, double min, double max) {
        List<Double> list;
        try {
            list = config.getDoubleList(key);
        } catch (ConfigException.WrongType | ConfigException.BadValue e) {
            throw wrongType(key, "a list of numbers");
        }
        if (list.size() != size) {
            throw invalid(key, "must be a list of " + size + " numbers");
        }
        double[] out = new double[size];
        for (int i = 0; i < size; i++) {
            double v = list.get(i);
            if (!(v >= min && v <= max)) {
                throw invalid(key, "element " + i + " must be in [" + fmt(min) + ", " + fmt(max) + "]");
            }
            out[i] = v;
        }
        return out;
    }

    /** An error for a value that has the right type but an impossible value. */
    public ConfigError invalid(String key, String why) {
        return new ConfigError(key, "value " + render(key) + " " + why + origin(key));
    }

    private ConfigError wrongType(String key, String expected) {
        return new ConfigError(key, "value " + render(key) + " is not " + expected + origin(key));
    }

    private String render(String key) {
        if (!config.hasPathOrNull(key)) {
            return "(missing)";
        }
        if (config.getIsNull(key)) {
            return "null";
        }
        ConfigValue v = config.getValue(key);
        return v.render(com.typesafe.config.ConfigRenderOptions.concise());
    }

    private String origin(String key) {
        if (!config.hasPathOrNull(key) || config.getIsNull(key)) {
            return "";
        }
        return ConfigLoader.describeOrigin(config.getValue(key).origin());
    }

    private static String fmt(double d) {
        if (d == Double.MAX_VALUE) {
            return "inf";
        }
        if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            return Long.toString((long) d);
        }
        return Double.toString(d);
    }
}
