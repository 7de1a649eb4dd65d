package siameseim.evaluate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import siameseim.checkpoint.Encoders;
import siameseim.checkpoint.CheckpointFormat;
import siameseim.config.ConfigLoader;
import siameseim.config.ModelConfig;
import siameseim.config.PretrainConfig;
import siameseim.model.io.Safetensors;
import siameseim.model.io.StateDict;
import siameseim.model.io.TorchZip;
import siameseim.model.io.WeightsFile;
import siameseim.model.vit.VisionTransformer;
import siameseim.files.UserFiles;

/**
 * Exports the online encoder of a pretrain checkpoint (spec 5.1: never the EMA copy) as a model
 * directory: {@code encoder.safetensors} (or, {@link Format#PTH}, {@code encoder.pth}) with the timm/MAE tensor names and shapes that
 * detectron2 ViTDet, mmsegmentation and timm load, {@code config.json} with the architecture and
 * input normalisation, and a README. {@link #load} reads such a directory back into a DJL
 * encoder for inference.
 */
public final class EncoderExport {
    public static final String WEIGHTS = "encoder.safetensors";
    /** The weights of {@code --format pth}: {@code {'model': state_dict}} as torch.save writes it. */
    public static final String WEIGHTS_PTH = "encoder.pth";

    /** The weights file's format: safetensors (the default) or PyTorch's own torch.save zip. */
    public enum Format {
        SAFETENSORS, PTH;

        public static Format named(String name) {
            return switch (name == null ? "safetensors" : name) {
                case "safetensors" -> SAFETENSORS;
                case "pth" -> PTH;
                default -> throw new IllegalArgumentException("--format " + name + ": expected safetensors or pth");
            };
        }
    }
    public static final String CONFIG = "config.json";

    private EncoderExport() {}

    /** What was exported. */
    public record Result(Path directory, long step, int tensors, long parameters, ModelConfig model) {}

    public static Result export(Configuration conf, String checkpoint, String output) throws IOException {
        return export(conf, checkpoint, output, Format.SAFETENSORS);
    }

    /**
     * As {@link #export(Configuration, String, String)}, the weights in {@code format}: with
     * {@link Format#PTH}, {@code encoder.pth} holds {@code {'model': state_dict}} in the
     * torch.save zip format, which {@code torch.load(weights_only=True)} (PyTorch 1.13 and later),
     * the official {@code main_finetune.py --finetune}, detectron2 and mmsegmentation read; its
     * tensors are the safetensors export's, bit for bit.
     */
    public static Result export(Configuration conf, String checkpoint, String output, Format format)
            throws IOException {
        return export(conf, checkpoint, output, format, null);
    }

    /**
     * As above; {@code official} is the config that describes a PyTorch {@code checkpoint} (the
     * official code's {@code checkpoint-N.pth} or a released {@code .pth}, which do not name their
     * architecture): its online encoder is exported under that architecture.
     */
    public static Result export(Configuration conf, String checkpoint, String output, Format format,
            PretrainConfig official) throws IOException {
        Path dir = new Path(output);
        try (NDManager m = NDManager.newBaseManager()) {
            ModelConfig arch;
            PretrainConfig trained;
            long step;
            Map<String, NDArray> enc = new LinkedHashMap<>();
            boolean torch;
            try (WeightsFile f = WeightsFile.open(checkpoint, conf)) {
                torch = f.isTorch();
                step = torch && f.torch().get("epoch") instanceof Number n ? n.longValue() + 1 : -1;
            }
            if (torch) {
                if (official == null) {
                    throw new IOException(checkpoint + " is a PyTorch file, which does not name its architecture: give"
                            + " the config that describes it (--conf pretrain-vit-b16.conf for ViT-B/16)");
                }
                arch = official.model();
                trained = official;
                // loaded and checked as every --weights is, then written from the encoder's own tensors
                enc.putAll(StateDict.of(Encoders.load(m, arch, checkpoint, 0, conf), Encoders::isEncoderTensor));
            } else {
                Path src = new Path(checkpoint);
                try (InputStream in = src.getFileSystem(conf).open(src)) {
                    CheckpointFormat.Loaded ckpt = CheckpointFormat.read(in, m, checkpoint);
                    arch = architecture(ckpt.architecture());
                    trained = PretrainConfig.from(ConfigLoader.fromJson(ckpt.configJson()));
                    step = ckpt.progress().step();
                    ckpt.tensors().forEach((k, v) -> {
                        if (Encoders.isEncoderTensor(k)) {
                            enc.put(k, v);
                        }
                    });
                }
            }
            long params = enc.values().stream().mapToLong(NDArray::size).sum();
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("format", "pt"); // what Hugging Face tooling expects of a PyTorch state dict
            meta.put("producer", "siameseim-encoder");
            meta.put("tensor_names", "timm");
            meta.put("architecture", CheckpointFormat.architectureJson(arch));
            meta.put("source", checkpoint);
            meta.put("step", Long.toString(step));
            try (OutputStream out = UserFiles.create(new Path(dir, format == Format.PTH ? WEIGHTS_PTH : WEIGHTS), conf)) {
                if (format == Format.PTH) {
                    TorchZip.write(out, enc);
                } else {
                    Safetensors.write(out, enc, meta);
                }
            }
            write(conf, new Path(dir, CONFIG), config(arch, trained, checkpoint, step));
            write(conf, new Path(dir, "README.md"), readme(arch, format));
            return new Result(dir, step, enc.size(), params, arch);
        }
    }

    /**
     * The encoder of an exported directory, for inference (no gradients): {@code encoder.safetensors}
     * with its architecture metadata, or {@code encoder.pth} (a torch.save file has no metadata of
     * ours) with the architecture read from the directory's {@code config.json}.
     */
    public static VisionTransformer load(NDManager m, Configuration conf, String directory) throws IOException {
        Path p = new Path(directory, WEIGHTS);
        org.apache.hadoop.fs.FileSystem fs = p.getFileSystem(conf);
        if (!fs.exists(p)) {
            Path pth = new Path(directory, WEIGHTS_PTH);
            if (!fs.exists(pth)) {
                throw new java.io.FileNotFoundException(directory + " holds neither " + WEIGHTS + " nor " + WEIGHTS_PTH
                        + ": not a directory written by bin/siameseim export");
            }
            return Encoders.load(m, architectureOfConfig(fs, new Path(directory, CONFIG)), pth.toString(), 0, conf);
        }
        Safetensors.Header h;
        try (InputStream in = fs.open(p)) {
            h = Safetensors.readHeader(in, p.toString());
        }
        String arch = h.metadata().get("architecture");
        if (arch == null) {
            throw new IOException(p + " has no architecture metadata (not written by bin/siameseim export)");
        }
        Map<String, String> a = new LinkedHashMap<>();
        com.google.gson.JsonParser.parseString(arch).getAsJsonObject().entrySet()
                .forEach(e -> a.put(e.getKey(), e.getValue().getAsString()));
        return Encoders.load(m, architecture(a), p.toString(), 0, conf);
    }

    /** The encoder's architecture from an export's {@code config.json} (the decoder keys at their defaults). */
    private static ModelConfig architectureOfConfig(org.apache.hadoop.fs.FileSystem fs, Path config) throws IOException {
        JsonObject o;
        try (InputStream in = fs.open(config)) {
            o = com.google.gson.JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8))
                    .getAsJsonObject();
        } catch (java.io.FileNotFoundException e) {
            throw new java.io.FileNotFoundException(config + " is missing: an " + WEIGHTS_PTH
                    + " export takes its architecture from it");
        } catch (RuntimeException e) {
            throw new IOException(config + " is not the JSON object bin/siameseim export writes: " + e.getMessage());
        }
        Map<String, String> a = new LinkedHashMap<>();
        String[][] keys = {{"image_size", "model.image-size"}, {"patch_size", "model.patch-size"},
            {"embed_dim", "model.encoder.width"}, {"depth", "model.encoder.depth"},
            {"num_heads", "model.encoder.heads"}, {"mlp_ratio", "model.encoder.mlp-ratio"}};
        for (String[] k : keys) {
            if (!o.has(k[0]) || !o.get(k[0]).isJsonPrimitive()) {
                throw new IOException(config + " has no number '" + k[0] + "' (the architecture of its " + WEIGHTS_PTH + ")");
            }
            a.put(k[1], o.get(k[0]).getAsString());
        }
        return architecture(a);
    }

    /** The architecture keys of a checkpoint as a model config. */
    public static ModelConfig architecture(Map<String, String> arch) {
        return ModelConfig.of(arch);
    }

    private static String config(ModelConfig arch, PretrainConfig trained, String source, long step) {
        JsonObject o = new JsonObject();
        // not a Hugging Face config (no model_type: no loader mistakes it for one of theirs)
        o.addProperty("library", "siameseim");
        o.addProperty("architecture", "vit");
        o.addProperty("tensor_names", "timm");
        o.addProperty("image_size", arch.imageSize());
        o.addProperty("patch_size", arch.patchSize());
        o.addProperty("embed_dim", arch.encoder().width());
        o.addProperty("depth", arch.encoder().depth());
        o.addProperty("num_heads", arch.encoder().heads());
        o.addProperty("mlp_ratio", arch.encoder().mlpRatio());
        o.addProperty("qkv_bias", true);
        o.addProperty("layer_norm_eps", 1e-6);
        o.addProperty("final_norm", false);
        o.addProperty("pos_embed", "fixed 2-D sin-cos, row 0 (CLS) zero");
        JsonArray mean = new JsonArray();
        JsonArray std = new JsonArray();
        for (int c = 0; c < 3; c++) {
            mean.add(trained.augment().mean()[c]);
            std.add(trained.augment().std()[c]);
        }
        o.add("normalize_mean", mean);
        o.add("normalize_std", std);
        o.addProperty("eval_resize", (int) (arch.imageSize() / 0.875));
        o.addProperty("source_checkpoint", source);
        o.addProperty("step", step);
        return new GsonBuilder().setPrettyPrinting().create().toJson(o) + "\n";
    }

    private static String readme(ModelConfig a, Format format) {
        return "# SiameseIM ViT encoder\n\n"
                + "The online encoder of a SiameseIM pretraining run (" + a.imageSize() + " px, patch " + a.patchSize()
                + ", width " + a.encoder().width() + ", depth " + a.encoder().depth() + ", heads " + a.encoder().heads()
                + "). `" + (format == Format.PTH ? WEIGHTS_PTH : WEIGHTS) + "` uses the timm/MAE names (`cls_token`,"
                + " `pos_embed`, `patch_embed.proj.*`, `blocks.N.*`); there is no final norm, as in SiameseIM.\n\n"
                + (format == Format.PTH
                        ? "- PyTorch: `torch.load('encoder.pth', map_location='cpu', weights_only=True)['model']`, as"
                                + " MAE's and SiameseIM's released `.pth` files; the official `main_finetune.py"
                                + " --finetune encoder.pth` loads it (missing keys: `head.*`, `fc_norm.*`).\n"
                        : "- timm: `timm.create_model('vit_base_patch16_224', global_pool='avg', fc_norm=False,"
                                + " num_classes=0)` (sizes adjusted) and `load_state_dict(safetensors.torch.load_file(...),"
                                + " strict=False)`; its missing `norm.*`/`head.*` are expected.\n")
                + "- DJL: `siameseim.evaluate.EncoderExport.load(manager, conf, dir)` returns the encoder;"
                + " `FeatureExtractor` pools its tokens.\n"
                + "- Inputs: RGB, resized to " + (int) (a.imageSize() / 0.875) + " px on the shorter side, centre-cropped to "
                + a.imageSize() + ", normalised with `config.json`'s mean and std.\n";
    }

    private static void write(Configuration conf, Path p, String text) throws IOException {
        try (OutputStream out = UserFiles.create(p, conf)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }
}
