package siameseim.evaluate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.checkpoint.Encoders;
import siameseim.config.ModelConfig;
import siameseim.model.io.StateDict;
import siameseim.model.nn.Torch;
import siameseim.model.vit.VisionTransformer;
import siameseim.config.ConfigLoader;
import siameseim.testing.EvalFixture;

/**
 * Weights files as users bring them, through the code every {@code --weights} goes through
 * ({@link Encoders#loadInto}): F16, BF16 and F64 tensors load as their float32 values, and
 * mutated files (headers, dtypes, shapes, offsets, lengths) fail with a message naming the file,
 * never a crash of the JVM or an exception without one.
 */
class WeightsFilesTest {
    private static final ModelConfig ARCH = ConfigLoader.loadPretrain(null, List.of(EvalFixture.UNIT)).model();
    private static NDManager manager;
    private static Map<String, float[]> values;
    private static Map<String, long[]> shapes;

    @BeforeAll
    static void weights() {
        Torch.init();
        manager = NDManager.newBaseManager();
        VisionTransformer source = new VisionTransformer(manager, new SplittableRandom(1), ARCH, "", null);
        values = new LinkedHashMap<>();
        shapes = new LinkedHashMap<>();
        SplittableRandom rng = new SplittableRandom(2);
        StateDict.of(source, Encoders::isEncoderTensor).forEach((k, v) -> {
            float[] f = new float[(int) v.size()];
            for (int i = 0; i < f.length; i++) {
                f[i] = (rng.nextInt(511) - 255) / 64f; // 8 significant bits: exact in BF16, F16, F32, F64
            }
            values.put(k, f);
            shapes.put(k, v.getShape().getShape());
        });
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    @Test
    void halfBfloatAndDoubleTensorsLoadAsTheirFloat32Values(@TempDir Path dir) throws Exception {
        for (String dtype : List.of("F32", "F16", "BF16", "F64")) {
            Path f = dir.resolve(dtype + ".safetensors");
            Files.write(f, file(dtype));
            Map<String, float[]> got = load(f);
            for (String k : values.keySet()) {
                assertArrayEquals(values.get(k), got.get(k), dtype + " " + k);
            }
        }
    }

    @Test
    void huggingFaceVitAndVitMaeNamesGiveTheSameFeatures(@TempDir Path dir) throws Exception {
        Path ours = dir.resolve("ours.safetensors");
        Files.write(ours, file("F32"));
        float[] expect = features(ours);
        for (String prefix : List.of("vit.", "")) { // ViTModel inside ViTForImageClassification / ViTMAEModel
            Path hf = dir.resolve("hf-" + prefix + "safetensors");
            Files.write(hf, huggingFace(prefix));
            assertArrayEquals(expect, features(hf), "prefix '" + prefix + "'");
        }
    }

    private static float[] features(Path f) throws IOException {
        try (NDManager m = manager.newSubManager()) {
            VisionTransformer enc = new VisionTransformer(m, new SplittableRandom(9), ARCH, "", null);
            Encoders.loadInto(enc, f.toString(), new Configuration());
            float[] images = new float[2 * 3 * 16 * 16];
            SplittableRandom rng = new SplittableRandom(4);
            for (int i = 0; i < images.length; i++) {
                images[i] = (float) rng.nextGaussian();
            }
            return new siameseim.eval.FeatureExtractor(enc, siameseim.config.FeaturePool.CLS).extract(images, 2, 16, m);
        }
    }

    /** The same weights under Hugging Face transformers' ViT names: q, k, v apart, plus a final norm and a pooler. */
    private static byte[] huggingFace(String prefix) {
        Map<String, float[]> hf = new LinkedHashMap<>();
        Map<String, long[]> hfShapes = new LinkedHashMap<>();
        for (Map.Entry<String, float[]> e : values.entrySet()) {
            String k = e.getKey();
            long[] shape = shapes.get(k);
            String block = k.startsWith("blocks.") ? prefix + "encoder.layer." + k.split("\\.")[1] + "." : null;
            String tail = block == null ? null : k.substring(k.indexOf('.', 7) + 1);
            if (block != null && tail.startsWith("attn.qkv.")) {
                int third = e.getValue().length / 3;
                long[] part = shape.clone();
                part[0] /= 3;
                for (int i = 0; i < 3; i++) {
                    String n = block + "attention.attention." + List.of("query", "key", "value").get(i) + "."
                            + tail.substring("attn.qkv.".length());
                    hf.put(n, java.util.Arrays.copyOfRange(e.getValue(), i * third, (i + 1) * third));
                    hfShapes.put(n, part);
                }
                continue;
            }
            String n = switch (k) {
                case "cls_token" -> prefix + "embeddings.cls_token";
                case "pos_embed" -> prefix + "embeddings.position_embeddings";
                case "patch_embed.proj.weight" -> prefix + "embeddings.patch_embeddings.projection.weight";
                case "patch_embed.proj.bias" -> prefix + "embeddings.patch_embeddings.projection.bias";
                default -> block + tail.replace("norm1.", "layernorm_before.").replace("norm2.", "layernorm_after.")
                        .replace("attn.proj.", "attention.output.dense.").replace("mlp.fc1.", "intermediate.dense.")
                        .replace("mlp.fc2.", "output.dense.");
            };
            hf.put(n, e.getValue());
            hfShapes.put(n, shape);
        }
        hf.put(prefix + "layernorm.weight", new float[32]); // not part of this encoder: ignored
        hfShapes.put(prefix + "layernorm.weight", new long[] {32});
        return file("F32", hf, hfShapes);
    }

    @Test
    void sixHundredMutantsFailWithTheFileNamedAndNeverCrash(@TempDir Path dir) throws Exception {
        byte[] valid = file("F32");
        SplittableRandom rng = new SplittableRandom(3);
        int failed = 0;
        int mutants = 600;
        for (int m = 0; m < mutants; m++) {
            Path f = dir.resolve("mutant-" + m + ".safetensors");
            Files.write(f, mutate(valid, m % 9, rng));
            try {
                load(f);
            } catch (IOException | IllegalArgumentException e) {
                failed++;
                assertTrue(e.getMessage() != null && e.getMessage().contains(f.toString()),
                        "mutant " + m + " (kind " + m % 9 + "): " + e);
            } catch (RuntimeException e) {
                fail("mutant " + m + " (kind " + m % 9 + ") failed without a clear message: " + e, e);
            }
        }
        assertTrue(failed > mutants / 2, failed + " of " + mutants + " mutants refused");
    }

    private static Map<String, float[]> load(Path f) throws IOException {
        try (NDManager m = manager.newSubManager()) {
            VisionTransformer enc = new VisionTransformer(m, new SplittableRandom(9), ARCH, "", null);
            Encoders.loadInto(enc, f.toString(), new Configuration());
            Map<String, float[]> out = new LinkedHashMap<>();
            StateDict.of(enc, Encoders::isEncoderTensor).forEach((k, v) -> out.put(k, v.toFloatArray()));
            return out;
        }
    }

    /** The weights as a safetensors file of one dtype, written here byte by byte. */
    private static byte[] file(String dtype) {
        return file(dtype, values, shapes);
    }

    private static byte[] file(String dtype, Map<String, float[]> values, Map<String, long[]> shapes) {
        int width = switch (dtype) {
            case "F16", "BF16" -> 2;
            case "F64" -> 8;
            default -> 4;
        };
        JsonObject header = new JsonObject();
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (Map.Entry<String, float[]> e : values.entrySet()) {
            float[] v = e.getValue();
            ByteBuffer b = ByteBuffer.allocate(v.length * width).order(ByteOrder.LITTLE_ENDIAN);
            for (float x : v) {
                switch (dtype) {
                    case "F16" -> b.putShort(half(x));
                    case "BF16" -> b.putShort((short) (Float.floatToIntBits(x) >>> 16));
                    case "F64" -> b.putDouble(x);
                    default -> b.putFloat(x);
                }
            }
            JsonObject o = new JsonObject();
            o.addProperty("dtype", dtype);
            JsonArray shape = new JsonArray();
            for (long d : shapes.get(e.getKey())) {
                shape.add(d);
            }
            o.add("shape", shape);
            JsonArray off = new JsonArray();
            off.add(data.size());
            off.add(data.size() + b.capacity());
            o.add("data_offsets", off);
            header.add(e.getKey(), o);
            data.writeBytes(b.array());
        }
        return assemble(header.toString(), data.toByteArray());
    }

    private static byte[] assemble(String json, byte[] data) {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        return out.putLong(h.length).put(h).put(data).array();
    }

    /** A float with at most 11 significant bits and a normal half exponent, as binary16. */
    private static short half(float x) {
        int bits = Float.floatToIntBits(x);
        int sign = (bits >>> 16) & 0x8000;
        if (x == 0) {
            return (short) sign;
        }
        int exp = ((bits >>> 23) & 0xff) - 127 + 15;
        return (short) (sign | (exp << 10) | ((bits >>> 13) & 0x3ff));
    }

    /** One mutant of {@code valid}, of the given kind. */
    private static byte[] mutate(byte[] valid, int kind, SplittableRandom rng) {
        ByteBuffer v = ByteBuffer.wrap(valid).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) v.getLong(0);
        String json = new String(valid, 8, n, StandardCharsets.UTF_8);
        byte[] data = java.util.Arrays.copyOfRange(valid, 8 + n, valid.length);
        JsonObject h = JsonParser.parseString(json).getAsJsonObject();
        List<String> names = new ArrayList<>(h.keySet());
        JsonObject t = h.getAsJsonObject(names.get(rng.nextInt(names.size())));
        long[] odd = {0, -1, 1, 3, Integer.MAX_VALUE, 1L << 40, Long.MAX_VALUE, Long.MIN_VALUE};
        switch (kind) {
            case 0 -> {
                return java.util.Arrays.copyOf(valid, rng.nextInt(valid.length));
            }
            case 1 -> {
                byte[] more = new byte[1 + rng.nextInt(100)];
                rng.nextBytes(more);
                return assemble(json, concat(data, more));
            }
            case 2 -> t.addProperty("dtype", List.of("F16", "BF16", "F64", "I64", "I32", "U8", "BOOL", "F8_E4M3", "X")
                    .get(rng.nextInt(9)));
            case 3 -> {
                JsonArray s = t.getAsJsonArray("shape");
                int i = rng.nextInt(s.size() + 1);
                if (i == s.size()) {
                    s.add(odd[rng.nextInt(odd.length)]);
                } else {
                    s.set(i, new com.google.gson.JsonPrimitive(odd[rng.nextInt(odd.length)]));
                }
            }
            case 4 -> {
                JsonArray o = t.getAsJsonArray("data_offsets");
                o.set(rng.nextInt(2), new com.google.gson.JsonPrimitive(
                        rng.nextBoolean() ? odd[rng.nextInt(odd.length)] : o.get(0).getAsLong() + rng.nextInt(-8, 9)));
            }
            case 5 -> {
                byte[] copy = valid.clone();
                ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putLong(0,
                        rng.nextBoolean() ? rng.nextLong() : n + rng.nextInt(-16, 17));
                return copy;
            }
            case 6 -> {
                byte[] copy = valid.clone();
                for (int k = 0; k < 1 + rng.nextInt(4); k++) {
                    copy[8 + rng.nextInt(n)] = (byte) rng.nextInt(256);
                }
                return copy;
            }
            case 7 -> {
                String name = names.get(rng.nextInt(names.size()));
                JsonElement e = h.remove(name);
                if (rng.nextBoolean()) {
                    h.add(name + ".x", e);
                }
            }
            default -> {
                JsonObject meta = new JsonObject();
                meta.add("format", rng.nextBoolean() ? new JsonObject() : new JsonArray());
                h.add("__metadata__", meta);
            }
        }
        return assemble(h.toString(), data);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
