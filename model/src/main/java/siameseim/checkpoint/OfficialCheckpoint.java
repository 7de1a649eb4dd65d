package siameseim.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import siameseim.config.PretrainConfig;
import siameseim.model.io.CorruptFileException;
import siameseim.model.io.StateDict;
import siameseim.model.io.TorchZip;
import siameseim.model.io.WeightsFile;
import siameseim.model.nn.CrossReplicaMean;
import siameseim.model.optim.GradientReducer;
import siameseim.train.Pretrainer;

/**
 * A training checkpoint of the official SiameseIM code ({@code util/misc.py save_model}:
 * {@code model}, {@code optimizer}, {@code epoch}, {@code scaler}, {@code args}) as a checkpoint
 * of ours, so that {@code pretrain --resume checkpoint-N.pth} continues it through the ordinary
 * resume path. Mapped: every tensor of {@code model} under its own name (our SiameseIM uses the
 * official names: the online encoder, decoder, projector, predictor, BatchNorm statistics and
 * the {@code mm_*} target); the AdamW moments, through the order of {@code main_pretrain.py}'s
 * parameter groups (timm's {@code param_groups_weight_decay}: the trainable parameters in module
 * order, those of one dimension or named {@code *.bias} first, then the rest, numbered
 * consecutively); the optimizer's step count from the moments' {@code step}; and the run's step
 * as {@code (epoch + 1)} epochs of this run's schedule (the official code saves after an epoch and
 * resumes at the next); the loss scale of {@code scaler} (for an fp16-mixed run). What starts
 * fresh: the data order and augmentation streams (ours, from the step) and the {@code args}
 * (this run's config rules). The released form ({@code model} only) has no moments:
 * it is refused here and belongs to {@code --weights} instead.
 */
public final class OfficialCheckpoint {
    private OfficialCheckpoint() {}

    /** What {@link #importSeed} made, and from what. */
    public record Imported(String path, long step, long optimizerSteps, int tensors, int moments) {}

    /** Whether {@code path} is a torch.save zip archive (by its content). */
    public static boolean isTorch(Configuration conf, String path) throws IOException {
        try (WeightsFile w = WeightsFile.open(path, conf)) {
            return w.isTorch();
        } catch (CorruptFileException e) {
            return false; // not ours to judge: the ordinary resume path reports it
        }
    }

    /**
     * Converts {@code source} into {@code <dir>/ckpt-<step>.safetensors} (our format, with
     * checksums) for this run's {@code cfg} and schedule, unless that file is already there (a
     * resubmitted run), and returns it.
     */
    public static Imported importSeed(Configuration conf, String source, PretrainConfig cfg, long stepsPerEpoch,
            Path dir) throws IOException {
        try (WeightsFile file = WeightsFile.open(source, conf);
                Pretrainer trainer = new Pretrainer(cfg, stepsPerEpoch, GradientReducer.IDENTITY,
                        CrossReplicaMean.SINGLE);
                NDManager tmp = NDManager.newBaseManager()) {
            if (!file.isTorch()) {
                throw new IllegalArgumentException(source + " is not a torch.save file");
            }
            Object epoch = file.torch().get("epoch");
            Object optimizer = file.torch().get("optimizer");
            if (!(epoch instanceof Number) || !(optimizer instanceof Map<?, ?>)) {
                throw new IllegalArgumentException(source + " has no 'optimizer' and 'epoch' (a released weights file,"
                        + " not a training checkpoint of the official code): start from it with --weights instead");
            }
            long step = (((Number) epoch).longValue() + 1) * stepsPerEpoch;
            Path out = new Path(dir, CheckpointStore.fileName(step));
            FileSystem fs = out.getFileSystem(conf);
            Map<String, NDArray> all = file.torch().readAll(tmp);
            Map<String, NDArray> weights = new LinkedHashMap<>();
            all.forEach((k, v) -> {
                if (k.startsWith("model.")) {
                    weights.put(k.substring(6), v);
                }
            });
            StateDict.load(trainer.model(), weights, n -> true, source);
            List<String> names = new ArrayList<>(weights.keySet());
            Map<String, NDArray> moments = new LinkedHashMap<>();
            long optimizerSteps = moments(source, (Map<?, ?>) optimizer, officialParams(names, weights,
                    TorchZip.attributes(file.torch().get("args"))), all, moments);
            trainer.optimizer().load(moments, optimizerSteps, source);
            if (!fs.exists(out)) {
                Path partial = new Path(dir, "." + out.getName() + ".partial");
                try (OutputStream o = fs.create(partial, true)) {
                    CheckpointFormat.write(o, trainer.model(), CheckpointFormat.architecture(cfg.model()),
                            trainer.optimizer(), new CheckpointFormat.Progress(step, (double) step / stepsPerEpoch,
                                    entries(cfg, file.torch().get("scaler"))), cfg.json());
                }
                if (!fs.rename(partial, out)) {
                    throw new IOException("could not move " + partial + " to " + out);
                }
            }
            return new Imported(fs.makeQualified(out).toString(), step, optimizerSteps, weights.size(),
                    moments.size() / 2);
        }
    }

    /**
     * The checkpoint entries resume reads beside the state: the global batch (UpdatePath's
     * {@code global_batch}, compared with the run's) and, from the official GradScaler's state,
     * the loss scale and its growth tracker (MixedPrecision's {@code loss_scale},
     * {@code loss_scale_growth_tracker}: taken by an fp16-mixed run, ignored by an fp32 one).
     */
    static Map<String, String> entries(PretrainConfig cfg, Object scaler) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put(CheckpointFormat.GLOBAL_BATCH, Integer.toString(cfg.optim().batchSize()));
        if (scaler instanceof Map<?, ?> s && s.get("scale") instanceof Number scale && scale.doubleValue() > 0) {
            out.put(CheckpointFormat.LOSS_SCALE, Double.toString(scale.doubleValue()));
            if (s.get("_growth_tracker") instanceof Number tracker) {
                out.put(CheckpointFormat.LOSS_SCALE_GROWTH, Long.toString(tracker.longValue()));
            }
        }
        return out;
    }

    /**
     * The official model's trainable parameters in the order {@code param_groups_weight_decay}
     * numbers them: {@code [no_decay..., decay...]}. Trainable: not the target ({@code mm_*}),
     * not the fixed position tables, not the patch embedding unless {@code --train_patch_embed},
     * not BatchNorm statistics.
     */
    static List<List<String>> officialParams(List<String> names, Map<String, NDArray> weights, Map<?, ?> args) {
        boolean trainPatchEmbed = args != null && Boolean.TRUE.equals(args.get("train_patch_embed"));
        List<String> noDecay = new ArrayList<>();
        List<String> decay = new ArrayList<>();
        for (String n : names) {
            boolean buffer = n.endsWith(".running_mean") || n.endsWith(".running_var");
            boolean frozen = n.startsWith("mm_") || n.equals("pos_embed") || n.equals("decoder_pos_embed")
                    || n.startsWith("student_norm.") || (!trainPatchEmbed && n.startsWith("patch_embed."));
            if (buffer || frozen) {
                continue;
            }
            if (weights.get(n).getShape().dimension() <= 1 || n.endsWith(".bias")) {
                noDecay.add(n);
            } else {
                decay.add(n);
            }
        }
        return List.of(noDecay, decay);
    }

    /** Fills {@code out} with our optimizer's entries; returns the optimizer's step count. */
    private static long moments(String source, Map<?, ?> optimizer, List<List<String>> groups,
            Map<String, NDArray> all, Map<String, NDArray> out) throws IOException {
        if (!(optimizer.get("param_groups") instanceof List<?> pg) || pg.size() != groups.size()) {
            throw new CorruptFileException(source + ": optimizer.param_groups is not the official code's two groups"
                    + " (no weight decay, weight decay); its moments cannot be mapped");
        }
        long steps = -1;
        for (int g = 0; g < groups.size(); g++) {
            Object ids = pg.get(g) instanceof Map<?, ?> m ? m.get("params") : null;
            if (!(ids instanceof List<?> list) || list.size() != groups.get(g).size()) {
                throw new CorruptFileException(source + ": optimizer group " + g + " has "
                        + (ids instanceof List<?> l ? l.size() : "no") + " parameters where the official model's"
                        + " trainable ones give " + groups.get(g).size() + "; its moments cannot be mapped");
            }
            for (int i = 0; i < list.size(); i++) {
                String name = groups.get(g).get(i);
                String key = "optimizer.state." + list.get(i) + ".";
                NDArray m = all.get(key + "exp_avg");
                NDArray v = all.get(key + "exp_avg_sq");
                NDArray w = all.get("model." + name);
                if (m == null || v == null) {
                    throw new CorruptFileException(source + ": no AdamW moments for parameter " + list.get(i) + " ("
                            + name + ")");
                }
                if (!m.getShape().equals(w.getShape()) || !v.getShape().equals(w.getShape())) {
                    throw new CorruptFileException(source + ": the moments of parameter " + list.get(i) + " have shape "
                            + m.getShape() + ", " + name + " has " + w.getShape() + ": not the official group order");
                }
                out.put("exp_avg." + name, m);
                out.put("exp_avg_sq." + name, v);
                if (steps < 0) { // a tensor since PyTorch 1.12, a number before
                    NDArray step = all.get(key + "step");
                    Object raw = optimizer.get("state") instanceof Map<?, ?> st && st.get(list.get(i)) instanceof Map<?, ?> ps
                            ? ps.get("step") : null;
                    steps = step != null ? (long) step.toFloatArray()[0] : raw instanceof Number n ? n.longValue() : -1;
                }
            }
        }
        return Math.max(steps, 0);
    }
}
