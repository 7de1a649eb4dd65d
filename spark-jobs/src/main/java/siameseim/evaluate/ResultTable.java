package siameseim.evaluate;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import siameseim.files.UserFiles;

/**
 * A job's results: printed as a Markdown table and written next to its output as
 * {@code <name>.json} and {@code <name>.md}.
 */
public final class ResultTable {
    private final String title;
    private final List<Map<String, Object>> rows = new ArrayList<>();

    public ResultTable(String title) {
        this.title = title;
    }

    /** Adds a row; values are numbers or strings, in column order. */
    public ResultTable row(Map<String, Object> values) {
        rows.add(new LinkedHashMap<>(values));
        return this;
    }

    public String markdown() {
        if (rows.isEmpty()) {
            return "";
        }
        List<String> cols = new ArrayList<>(rows.get(0).keySet());
        StringBuilder sb = new StringBuilder("### ").append(title).append("\n\n| ").append(String.join(" | ", cols))
                .append(" |\n|").append("---|".repeat(cols.size())).append('\n');
        for (Map<String, Object> r : rows) {
            sb.append("| ");
            for (String c : cols) {
                Object v = r.get(c);
                sb.append(v instanceof Double dv ? String.format(java.util.Locale.ROOT, "%.4f", dv) : String.valueOf(v))
                        .append(" | ");
            }
            sb.setLength(sb.length() - 1);
            sb.append('\n');
        }
        return sb.toString();
    }

    public String json() {
        JsonObject o = new JsonObject();
        o.addProperty("title", title);
        JsonArray arr = new JsonArray();
        for (Map<String, Object> r : rows) {
            JsonObject j = new JsonObject();
            r.forEach((k, v) -> {
                if (v instanceof Number n) {
                    j.addProperty(k, n);
                } else {
                    j.addProperty(k, String.valueOf(v));
                }
            });
            arr.add(j);
        }
        o.add("rows", arr);
        return new GsonBuilder().setPrettyPrinting().create().toJson(o) + "\n";
    }

    /** Writes {@code <dir>/<name>.json} and {@code .md}; {@code dir} null writes nothing. */
    public void write(Configuration conf, String dir, String name) throws IOException {
        if (dir == null) {
            return;
        }
        for (String[] f : new String[][] {{name + ".json", json()}, {name + ".md", markdown()}}) {
            Path p = new Path(dir, f[0]);
            try (OutputStream out = UserFiles.create(p, conf)) {
                out.write(f[1].getBytes(StandardCharsets.UTF_8));
            }
        }
    }
}
