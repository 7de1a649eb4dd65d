package siameseim.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import java.io.IOException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import siameseim.model.io.CorruptFileException;

/**
 * The tensor-name conventions an encoder's weights come in, and their mapping to ours. Ours are
 * timm's and MAE's, which the official SiameseIM checkpoints also use ({@code cls_token},
 * {@code pos_embed}, {@code patch_embed.proj.*}, {@code blocks.N.{norm1,attn.qkv,attn.proj,norm2,
 * mlp.fc1,mlp.fc2}.*}). Hugging Face {@code transformers} ViT and ViT-MAE encoders
 * ({@code [vit.]embeddings.*}, {@code [vit.]encoder.layer.N.*}) hold the same tensors under other
 * names, with the attention's query, key and value apart: they are renamed and q, k, v stacked
 * (in that order, along the output dimension) into {@code attn.qkv}. Their final
 * {@code layernorm} and pooler are not part of the encoder here (SiameseIM has no final norm).
 */
public final class EncoderNames {
    private static final Pattern HF = Pattern.compile("^(?:vit\\.)?(embeddings|encoder)\\.(.+)$");
    private static final Pattern HF_LAYER = Pattern.compile("^layer\\.(\\d+)\\.(.+)$");
    private static final String[] QKV = {"query", "key", "value"};
    private static final Map<String, String> HF_BLOCK = Map.of(
            "layernorm_before.", "norm1.",
            "layernorm_after.", "norm2.",
            "attention.output.dense.", "attn.proj.",
            "intermediate.dense.", "mlp.fc1.",
            "output.dense.", "mlp.fc2.");

    private EncoderNames() {}

    /** Whether {@code name} is one of the encoder's tensors, in our names or Hugging Face's. */
    public static boolean isEncoderTensor(String name) {
        return isOurs(name) || ours(name) != null || qkvPart(name) != null;
    }

    static boolean isOurs(String name) {
        return name.equals("cls_token") || name.equals("pos_embed") || name.startsWith("patch_embed.")
                || name.startsWith("blocks.");
    }

    /** Whether the names follow Hugging Face's convention. */
    public static boolean isHuggingFace(Collection<String> names) {
        return names.stream().anyMatch(n -> ours(n) != null || qkvPart(n) != null);
    }

    /**
     * The encoder tensors of {@code tensors} under our names (Hugging Face names renamed, q/k/v
     * stacked; new arrays in the inputs' manager); other tensors are left out.
     *
     * @throws CorruptFileException when a layer's query, key or value is missing, naming {@code source}
     */
    public static Map<String, NDArray> toOurs(Map<String, NDArray> tensors, String source) throws IOException {
        Map<String, NDArray> out = new LinkedHashMap<>();
        Map<String, NDArray[]> qkv = new TreeMap<>(); // "blocks.N.attn.qkv.weight" -> {q, k, v}
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            String name = e.getKey();
            if (isOurs(name)) {
                out.put(name, e.getValue());
                continue;
            }
            String mapped = ours(name);
            if (mapped != null) {
                out.put(mapped, e.getValue());
                continue;
            }
            String[] part = qkvPart(name);
            if (part != null) {
                qkv.computeIfAbsent(part[0], k -> new NDArray[3])[Integer.parseInt(part[1])] = e.getValue();
            }
        }
        for (Map.Entry<String, NDArray[]> e : qkv.entrySet()) {
            NDArray[] p = e.getValue();
            for (int i = 0; i < 3; i++) {
                if (p[i] == null) {
                    throw new CorruptFileException(source + ": " + e.getKey() + " needs the attention's query, key and"
                            + " value, and the " + QKV[i] + " is missing");
                }
            }
            out.put(e.getKey(), NDArrays.concat(new NDList(p[0], p[1], p[2]), 0));
        }
        return out;
    }

    /** Our name of a Hugging Face tensor other than q/k/v, or null. */
    private static String ours(String name) {
        Matcher m = HF.matcher(name);
        if (!m.matches()) {
            return null;
        }
        String rest = m.group(2);
        if (m.group(1).equals("embeddings")) {
            return switch (rest) {
                case "cls_token" -> "cls_token";
                case "position_embeddings" -> "pos_embed";
                case "patch_embeddings.projection.weight" -> "patch_embed.proj.weight";
                case "patch_embeddings.projection.bias" -> "patch_embed.proj.bias";
                default -> null;
            };
        }
        Matcher layer = HF_LAYER.matcher(rest);
        if (!layer.matches()) {
            return null;
        }
        for (Map.Entry<String, String> b : HF_BLOCK.entrySet()) {
            if (layer.group(2).startsWith(b.getKey())) {
                return "blocks." + layer.group(1) + "." + b.getValue() + layer.group(2).substring(b.getKey().length());
            }
        }
        return null;
    }

    /** For a Hugging Face query/key/value tensor: {our fused name, 0|1|2}; else null. */
    private static String[] qkvPart(String name) {
        Matcher m = HF.matcher(name);
        if (!m.matches() || !m.group(1).equals("encoder")) {
            return null;
        }
        Matcher layer = HF_LAYER.matcher(m.group(2));
        if (!layer.matches()) {
            return null;
        }
        for (int i = 0; i < 3; i++) {
            String prefix = "attention.attention." + QKV[i] + ".";
            if (layer.group(2).startsWith(prefix)) {
                return new String[] {"blocks." + layer.group(1) + ".attn.qkv." + layer.group(2).substring(prefix.length()),
                    Integer.toString(i)};
            }
        }
        return null;
    }
}
