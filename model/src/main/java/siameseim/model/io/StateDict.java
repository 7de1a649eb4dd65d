package siameseim.model.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import siameseim.model.nn.Module;
import siameseim.model.nn.Param;

/** Loading and exporting a module's tensors under their reference names. */
public final class StateDict {
    private StateDict() {}

    /** The module's tensors by name (the arrays themselves, not copies). */
    public static Map<String, NDArray> of(Module module, Predicate<String> include) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, Param> e : module.namedParams().entrySet()) {
            if (include.test(e.getKey())) {
                out.put(e.getKey(), e.getValue().array());
            }
        }
        return out;
    }

    /**
     * Copies {@code tensors} into the module's tensors of the same names. Every module tensor
     * accepted by {@code expected} must be present, every given tensor accepted by
     * {@code expected} must exist in the module, and shapes must match; otherwise nothing is
     * loaded and the error lists every problem. Tensors rejected by {@code expected} are ignored.
     *
     * @return the names that were loaded
     */
    public static List<String> load(Module module, Map<String, NDArray> tensors, Predicate<String> expected,
            String source) {
        Map<String, Param> params = module.namedParams();
        List<String> missing = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        List<String> badShape = new ArrayList<>();
        for (Map.Entry<String, Param> e : params.entrySet()) {
            if (expected.test(e.getKey()) && !tensors.containsKey(e.getKey())) {
                missing.add(e.getKey());
            }
        }
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            if (!expected.test(e.getKey())) {
                continue;
            }
            Param p = params.get(e.getKey());
            if (p == null) {
                unexpected.add(e.getKey());
            } else if (!p.array().getShape().equals(e.getValue().getShape())) {
                badShape.add(e.getKey() + " " + e.getValue().getShape() + " (model expects " + p.array().getShape() + ")");
            }
        }
        if (!missing.isEmpty() || !unexpected.isEmpty() || !badShape.isEmpty()) {
            StringBuilder sb = new StringBuilder(source + " does not match the model:");
            if (!missing.isEmpty()) {
                sb.append("\n  missing tensors: ").append(String.join(", ", missing));
            }
            if (!unexpected.isEmpty()) {
                sb.append("\n  unknown tensors: ").append(String.join(", ", unexpected));
            }
            if (!badShape.isEmpty()) {
                sb.append("\n  wrong shapes: ").append(String.join("; ", badShape));
            }
            throw new IllegalArgumentException(sb.toString());
        }
        List<String> loaded = new ArrayList<>();
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            if (expected.test(e.getKey())) {
                NDArray v = e.getValue();
                params.get(e.getKey()).copyFrom(v.getDataType() == DataType.FLOAT32 ? v : v.toType(DataType.FLOAT32, false));
                loaded.add(e.getKey());
            }
        }
        return loaded;
    }
}
