package siameseim.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import java.io.File;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The one config loader: {@code reference.conf} defaults, then an optional file, then
 * {@code key=value} overrides, each layer checked against the reference for unknown keys.
 *
 * <p>Config files live in {@code conf/} and ship inside the model jar under
 * {@code siameseim/conf/}, so a bundled name ({@code pretrain-demo.conf}) works from any directory.
 */
public final class ConfigLoader {
    /** Classpath folder holding reference.conf and the bundled configs. */
    public static final String RESOURCE_DIR = "siameseim/conf/";

    private static final Pattern NUMBER = Pattern.compile("[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?");

    private ConfigLoader() {}

    /** The defaults, parsed from the bundled reference.conf. */
    public static Config reference() {
        return parseResource("reference.conf");
    }

    /**
     * Loads and resolves a config.
     *
     * @param confFile a file path or a bundled config name; null for defaults only
     * @param overrides {@code key=value} strings, applied in order (later wins)
     */
    public static Config load(String confFile, List<String> overrides) {
        Config reference = reference();
        Config merged = reference;
        if (confFile != null) {
            Config file = parseFile(confFile);
            checkKnown(file, reference);
            merged = file.withFallback(merged);
        }
        for (String override : overrides) {
            Config o = parseOverride(override);
            checkKnown(o, reference);
            merged = o.withFallback(merged);
        }
        try {
            return merged.resolve();
        } catch (ConfigException e) {
            throw new ConfigError("config could not be resolved: " + e.getMessage());
        }
    }

    /** Loads a pretraining config into typed, validated records. */
    public static PretrainConfig loadPretrain(String confFile, List<String> overrides) {
        return PretrainConfig.from(load(confFile, overrides));
    }

    /** Renders a resolved config as compact JSON (stored in checkpoints and run folders). */
    public static String toJson(Config config) {
        return config.root().render(ConfigRenderOptions.concise());
    }

    /** Parses a config stored by {@link #toJson}. */
    public static Config fromJson(String json) {
        return ConfigFactory.parseString(json, ConfigParseOptions.defaults().setOriginDescription("stored config"));
    }

    /** " (from FILE:LINE)" or "" when unknown. */
    static String describeOrigin(ConfigOrigin origin) {
        if (origin == null) {
            return "";
        }
        String where = origin.filename() != null ? origin.filename() : origin.description();
        if (origin.url() != null && origin.filename() == null) {
            where = origin.resource() != null ? origin.resource() : origin.url().toString();
        }
        if (where == null || where.isEmpty()) {
            return "";
        }
        if (where.startsWith("--set ")) {
            return " (from " + where + ")";
        }
        if (origin.lineNumber() > 0 && !where.contains(": " + origin.lineNumber())) {
            where = where + ":" + origin.lineNumber();
        }
        return " (from " + where + ")";
    }

    private static Config parseResource(String name) {
        URL url = ConfigLoader.class.getClassLoader().getResource(RESOURCE_DIR + name);
        if (url == null) {
            return null;
        }
        try (InputStream in = url.openStream();
                Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
            return ConfigFactory.parseReader(r, ConfigParseOptions.defaults().setOriginDescription(name));
        } catch (java.io.IOException e) {
            throw new ConfigError("cannot read bundled config " + name + ": " + e.getMessage());
        } catch (ConfigException e) {
            throw new ConfigError("bundled config " + name + " is not valid HOCON: " + e.getMessage());
        }
    }

    private static Config parseFile(String confFile) {
        File f = new File(confFile);
        try {
            if (f.isFile()) {
                return ConfigFactory.parseFile(f, ConfigParseOptions.defaults().setAllowMissing(false));
            }
        } catch (ConfigException e) {
            throw new ConfigError("config file " + confFile + " is not valid HOCON: " + e.getMessage());
        }
        Config bundled = parseResource(f.getName());
        if (bundled != null && !f.getName().equals("reference.conf")) {
            return bundled;
        }
        throw new ConfigError("config file " + confFile + " does not exist (and is not a bundled config:"
                + " pretrain-demo.conf, pretrain-vit-b16.conf, ...)");
    }

    private static Config parseOverride(String override) {
        int eq = override.indexOf('=');
        if (eq <= 0) {
            throw new ConfigError("--set expects key=value, got '" + override + "'");
        }
        String key = override.substring(0, eq).trim();
        String raw = override.substring(eq + 1).trim();
        try {
            ConfigValue value = parseValue(raw, "--set " + override);
            return ConfigFactory.empty("--set " + override).withValue(key, value);
        } catch (ConfigException e) {
            throw new ConfigError("--set " + override + ": " + e.getMessage());
        }
    }

    /**
     * Numbers, booleans, null, lists, objects and quoted strings parse as HOCON; anything else is
     * a plain string, so {@code data.path=hdfs://host:8020/x} is not cut at "//".
     */
    private static ConfigValue parseValue(String raw, String origin) {
        boolean hocon = raw.startsWith("[") || raw.startsWith("{") || raw.startsWith("\"")
                || raw.equals("true") || raw.equals("false") || raw.equals("null")
                || NUMBER.matcher(raw).matches();
        if (!hocon) {
            return ConfigValueFactory.fromAnyRef(raw, origin);
        }
        Config c = ConfigFactory.parseString("v = " + raw, ConfigParseOptions.defaults().setOriginDescription(origin));
        return ConfigValueFactory.fromAnyRef(c.hasPath("v") ? c.getValue("v").unwrapped() : null, origin);
    }

    /** Every leaf of {@code layer} must exist in the reference, with the same shape (leaf vs object). */
    private static void checkKnown(Config layer, Config reference) {
        List<String> unknown = new ArrayList<>();
        for (Map.Entry<String, ConfigValue> e : layer.entrySet()) {
            String key = e.getKey();
            if (!reference.hasPathOrNull(key)) {
                String parent = closestKnownParent(key, reference);
                unknown.add("unknown config key '" + key + "'" + describeOrigin(e.getValue().origin())
                        + (parent == null ? "" : "; keys under '" + parent + "' are: " + childKeys(reference, parent)));
            }
        }
        // a user value that replaces a whole section (model = 5) hides the section's leaves
        for (Map.Entry<String, ConfigValue> e : reference.root().entrySet()) {
            checkSectionShape(layer, reference, e.getKey(), unknown);
        }
        if (!unknown.isEmpty()) {
            throw new ConfigError(String.join("\n", unknown));
        }
    }

    private static void checkSectionShape(Config layer, Config reference, String path, List<String> errors) {
        if (!layer.hasPathOrNull(path) || reference.getIsNull(path)) {
            return;
        }
        ConfigValue ref = reference.getValue(path);
        if (ref.valueType() != com.typesafe.config.ConfigValueType.OBJECT) {
            return;
        }
        ConfigValue mine = layer.getIsNull(path) ? null : layer.getValue(path);
        if (mine == null || mine.valueType() != com.typesafe.config.ConfigValueType.OBJECT) {
            errors.add("config key '" + path + "': is a section; set its keys ("
                    + childKeys(reference, path) + ") instead"
                    + (mine == null ? "" : describeOrigin(mine.origin())));
            return;
        }
        for (String child : reference.getObject(path).keySet()) {
            checkSectionShape(layer, reference, path + "." + child, errors);
        }
    }

    private static String closestKnownParent(String key, Config reference) {
        String p = key;
        while (p.contains(".")) {
            p = p.substring(0, p.lastIndexOf('.'));
            if (reference.hasPath(p)) {
                return p;
            }
        }
        return null;
    }

    private static String childKeys(Config reference, String parent) {
        try {
            return String.join(", ", new java.util.TreeSet<>(reference.getObject(parent).keySet()));
        } catch (ConfigException e) {
            return "(none)";
        }
    }
}
