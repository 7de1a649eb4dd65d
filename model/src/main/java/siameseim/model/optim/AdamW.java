package siameseim.model.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import siameseim.model.nn.Param;

/**
 * AdamW with decoupled weight decay, exactly torch.optim.AdamW: w <- w - lr wd w, then the Adam
 * step with bias correction and eps added to sqrt(v_hat). Each tensor has its own decay flag and
 * lr multiplier (layer-wise decay in fine-tuning), and the moments are plain tensors that a
 * checkpoint saves and restores.
 *
 * <p>Why not DJL's {@code Optimizer.adamW()}: one global weight decay, no lr multipliers, and
 * private moments that cannot be checkpointed. The update itself still runs as DJL's fused
 * adamUpdate kernel (one native call per tensor); its eps is added to sqrt(v) before bias
 * correction, so we pass eps * sqrt(1 - beta2^t) to obtain PyTorch's formula.
 */
public final class AdamW {
    private final List<Slot> slots = new ArrayList<>();
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private long steps;

    private static final class Slot {
        final String name;
        final Param param;
        final boolean decay;
        final double lrScale;
        NDArray mean;
        NDArray var;

        Slot(String name, Param param, boolean decay, double lrScale) {
            this.name = name;
            this.param = param;
            this.decay = decay;
            this.lrScale = lrScale;
        }
    }

    /**
     * @param params trainable tensors by name (fixed order)
     * @param lrScale per-tensor lr multiplier (1 everywhere in pretraining)
     */
    public AdamW(NDManager stateManager, Map<String, Param> params, double beta1, double beta2, double eps,
            double weightDecay, WeightDecayRule rule, ToDoubleFunction<String> lrScale) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        for (Map.Entry<String, Param> e : params.entrySet()) {
            Param p = e.getValue();
            Slot s = new Slot(e.getKey(), p, rule.decays(e.getKey(), p), lrScale.applyAsDouble(e.getKey()));
            s.mean = stateManager.zeros(p.array().getShape(), p.array().getDataType(), p.array().getDevice());
            s.var = stateManager.zeros(p.array().getShape(), p.array().getDataType(), p.array().getDevice());
            slots.add(s);
        }
    }

    /** Optimizer steps taken so far (t of the bias correction). */
    public long steps() {
        return steps;
    }

    /** Global L2 norm of all gradients (torch's clip_grad_norm_ total norm). */
    public double gradNorm() {
        NDList norms = new NDList();
        try {
            for (Slot s : slots) {
                // the square would be attached to the parameter's manager: close it here, or
                // every step leaves one tensor per parameter behind
                try (NDArray g = s.param.array().getGradient(); NDArray sq = g.square()) {
                    norms.add(sq.sum());
                }
            }
            try (NDArray all = NDArrays.stack(norms);
                    NDArray total = all.sum()) {
                return Math.sqrt(total.getFloat());
            }
        } finally {
            norms.close();
        }
    }

    /**
     * One update with learning rate {@code lr}; gradients are multiplied by {@code gradScale}
     * first (the clipping coefficient) and zeroed afterwards.
     */
    public void step(double lr, double gradScale) {
        steps++;
        double c1 = 1 - Math.pow(beta1, steps);
        double c2 = 1 - Math.pow(beta2, steps);
        float epsHat = (float) (eps * Math.sqrt(c2));
        for (Slot s : slots) {
            double slotLr = lr * s.lrScale;
            float lrBiasCorrected = (float) (slotLr * Math.sqrt(c2) / c1);
            float wd = s.decay ? (float) weightDecay : 0f;
            NDArray w = s.param.array();
            try (NDArray g = w.getGradient()) {
                w.getNDArrayInternal().adamUpdate(new NDList(w, g, s.mean, s.var), new NDList(w), (float) slotLr,
                        lrBiasCorrected, wd, (float) gradScale, -1f, (float) beta1, (float) beta2, epsHat, false,
                        true);
            }
        }
    }

    /** Names of the tensors whose gradient holds NaN or infinity (for error reports). */
    public List<String> nonFiniteGradients() {
        List<String> out = new ArrayList<>();
        for (Slot s : slots) {
            try (NDArray g = s.param.array().getGradient();
                    NDArray bad = g.isNaN().logicalOr(g.isInfinite());
                    NDArray any = bad.any()) {
                if (any.getBoolean()) {
                    out.add(s.name);
                }
            }
        }
        return out;
    }

    /**
     * Zeroes every gradient (a skipped step). Written as a fill, not {@code g - g}: the gradients
     * of a skipped step hold infinities, and inf - inf is NaN, which the next steps' gradients
     * would accumulate onto.
     */
    public void zeroGradients() {
        for (Slot s : slots) {
            try (NDArray g = s.param.array().getGradient()) {
                g.set(new ai.djl.ndarray.index.NDIndex("..."), 0);
            }
        }
    }

    /** Moments by name: {@code exp_avg.<name>} and {@code exp_avg_sq.<name>} (PyTorch's names). */
    public Map<String, NDArray> state() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Slot s : slots) {
            out.put("exp_avg." + s.name, s.mean);
        }
        for (Slot s : slots) {
            out.put("exp_avg_sq." + s.name, s.var);
        }
        return out;
    }

    /** Restores moments and the step count saved by {@link #state()}. */
    public void load(Map<String, NDArray> state, long steps, String source) {
        List<String> missing = new ArrayList<>();
        for (Slot s : slots) {
            NDArray m = state.get("exp_avg." + s.name);
            NDArray v = state.get("exp_avg_sq." + s.name);
            if (m == null || v == null || !m.getShape().equals(s.mean.getShape())
                    || !v.getShape().equals(s.var.getShape())) {
                missing.add(s.name);
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(source + ": optimizer state missing or of the wrong shape for "
                    + String.join(", ", missing));
        }
        for (Slot s : slots) {
            replace(s, state.get("exp_avg." + s.name), true);
            replace(s, state.get("exp_avg_sq." + s.name), false);
        }
        this.steps = steps;
    }

    private static void replace(Slot s, NDArray value, boolean mean) {
        NDArray old = mean ? s.mean : s.var;
        NDArray fresh = Param.detachedCopy(value, old.getDataType());
        fresh.attach(old.getManager());
        old.close();
        if (mean) {
            s.mean = fresh;
        } else {
            s.var = fresh;
        }
    }

    /** Names of the tensors that receive weight decay. */
    public List<String> decayed() {
        List<String> out = new ArrayList<>();
        for (Slot s : slots) {
            if (s.decay) {
                out.add(s.name);
            }
        }
        return out;
    }
}
