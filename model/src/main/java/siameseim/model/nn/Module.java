package siameseim.model.nn;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A node of the model tree: its own tensors plus named children. Names compose with dots, so a
 * tree built as the reference builds it yields the reference's state_dict names
 * ({@code blocks.3.attn.qkv.weight}), which is what export/import and the golden test rely on.
 *
 * <p>Why not DJL's {@code AbstractBlock}: its child names get ordinal prefixes ("01Linear"),
 * parameters are reached through a {@code ParameterStore}, and a target (EMA) copy, frozen
 * tensors and buffers would each need workarounds. Plain tensors with stable names keep
 * {@code SiameseIM.forward} readable against the spec.
 */
public abstract class Module {
    private final Map<String, Param> params = new LinkedHashMap<>();
    private final List<Map.Entry<String, Module>> children = new ArrayList<>();

    /** Registers a tensor of this module under a local name. */
    protected final Param param(String name, NDArray array, Param.Kind kind) {
        Param p = new Param(name, array, kind);
        if (params.put(name, p) != null) {
            throw new IllegalStateException("duplicate parameter " + name);
        }
        return p;
    }

    /** Registers a child module; its tensors appear as {@code name.<child tensor>}. */
    protected final <M extends Module> M child(String name, M module) {
        for (Map.Entry<String, Module> c : children) {
            if (!name.isEmpty() && c.getKey().equals(name)) {
                throw new IllegalStateException("duplicate child " + name);
            }
        }
        children.add(Map.entry(name, module));
        return module;
    }

    /** Every tensor of this subtree under its full dotted name, in registration order. */
    public final Map<String, Param> namedParams() {
        Map<String, Param> out = new LinkedHashMap<>();
        collect("", out);
        if (out.size() != countAll()) {
            throw new IllegalStateException("two tensors of " + getClass().getSimpleName() + " share a name");
        }
        return Collections.unmodifiableMap(out);
    }

    private void collect(String prefix, Map<String, Param> out) {
        for (Map.Entry<String, Param> e : params.entrySet()) {
            out.put(prefix + e.getKey(), e.getValue());
        }
        for (Map.Entry<String, Module> e : children) {
            // an empty child name splices the child's tensors in at this level (the reference keeps
            // the online encoder's cls_token, patch_embed and blocks at the root of its state_dict)
            String childPrefix = e.getKey().isEmpty() ? prefix : prefix + e.getKey() + ".";
            e.getValue().collect(childPrefix, out);
        }
    }

    private int countAll() {
        int n = params.size();
        for (Map.Entry<String, Module> e : children) {
            n += e.getValue().countAll();
        }
        return n;
    }

    /** Sets every tensor of this subtree to {@code kind} (buffers stay buffers). */
    public void setTrainable(boolean trainable) {
        for (Param p : namedParams().values()) {
            if (p.kind() != Param.Kind.BUFFER) {
                p.setKind(trainable ? Param.Kind.TRAINABLE : Param.Kind.FROZEN);
            }
        }
    }

    /** The trainable tensors by full name, in registration order (what the optimizer updates). */
    public final Map<String, Param> trainableParams() {
        Map<String, Param> out = new LinkedHashMap<>();
        namedParams().forEach((k, p) -> {
            if (p.trainable()) {
                out.put(k, p);
            }
        });
        return out;
    }

    /** Number of elements in this subtree's trainable tensors. */
    public long trainableSize() {
        long n = 0;
        for (Param p : namedParams().values()) {
            if (p.trainable()) {
                n += p.array().size();
            }
        }
        return n;
    }
}
