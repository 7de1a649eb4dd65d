package siameseim.datasets.prepare.tar;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import siameseim.datasets.decode.BadImageException;
import siameseim.datasets.prepare.InputImage;

/**
 * The samples of one WebDataset shard, grouped as the {@code webdataset} package groups them
 * ({@code base_plus_ext} and {@code group_by_keys}): a member's key is its path up to the first
 * dot of its file name and its extension the rest, lower-cased; consecutive members with the same
 * key are one sample. The image is the sample's {@code jpg}, {@code jpeg}, {@code png} or
 * {@code webp} member (the first of these found); the label its {@code cls} member (text, usually
 * a class number) or, with a JSON field named, that field of its {@code json} member.
 *
 * <p>Each sample becomes one {@link InputImage} named {@code <shard>/<key>.<ext>}. A sample with
 * no image member, or with a label it cannot read, is reported ({@code NOT_AN_IMAGE}, or a null
 * label, which a labelled dataset reports as {@code NO_CLASS}); a member name with no dot belongs
 * to no sample and is passed over, as WebDataset does; a shard cut short is reported once
 * ({@link InputImage#TAR_CUT_SHORT}) after the samples before the cut.
 */
public final class WebDatasetSamples extends Lookahead {
    /** Image extensions, in the order of preference when a sample has several. */
    public static final List<String> IMAGE_EXTENSIONS = List.of("jpg", "jpeg", "png", "webp");

    private final TarMembers members;
    private final String shard;
    private final String split;
    private final String jsonLabelField;
    private TarMembers.Member pending;
    private boolean ended;

    /**
     * @param shard the shard's name in reports (its file name)
     * @param jsonLabelField the label's field in the sample's json member; null: the cls member
     */
    public WebDatasetSamples(TarMembers members, String shard, String split, String jsonLabelField) {
        this.members = members;
        this.shard = shard;
        this.split = split;
        this.jsonLabelField = jsonLabelField;
    }

    @Override
    protected InputImage advance() {
        while (!ended) {
            TarMembers.Member m = pending != null ? pending : members.next();
            pending = null;
            if (m == null) {
                ended = true;
                return members.cutShort() == null ? null
                        : InputImage.bad(split, shard, InputImage.TAR_CUT_SHORT, members.cutShort());
            }
            String[] ke = keyAndExtension(m.name());
            if (ke == null) {
                continue; // no key: WebDataset passes such members over too
            }
            Map<String, TarMembers.Member> sample = new LinkedHashMap<>();
            sample.put(ke[1], m);
            TarMembers.Member n;
            while ((n = members.next()) != null) {
                String[] nk = keyAndExtension(n.name());
                if (nk == null) {
                    continue;
                }
                if (!nk[0].equals(ke[0])) {
                    pending = n;
                    break;
                }
                sample.putIfAbsent(nk[1], n);
            }
            if (n == null && members.cutShort() != null && image(sample) == null) {
                continue; // the sample the cut went through: reported with the cut, not as a sample without image
            }
            return sample(ke[0], sample);
        }
        return null;
    }

    private InputImage sample(String key, Map<String, TarMembers.Member> sample) {
        String ext = image(sample);
        if (ext == null) {
            return InputImage.bad(split, shard + "/" + key, BadImageException.Reason.NOT_AN_IMAGE.name(),
                    "sample has no " + String.join(", ", IMAGE_EXTENSIONS) + " member (it has: "
                            + String.join(", ", sample.keySet()) + ")");
        }
        String name = shard + "/" + key + "." + ext;
        TarMembers.Member image = sample.get(ext);
        if (image.bytes() == null) {
            return InputImage.bad(split, name, BadImageException.Reason.TOO_LARGE.name(),
                    image.size() + " bytes: larger than a member this reader holds");
        }
        return InputImage.of(split, label(sample), name, image.bytes());
    }

    /** The extension of the sample's image member, or null when it has none. */
    private static String image(Map<String, TarMembers.Member> sample) {
        for (String e : IMAGE_EXTENSIONS) {
            if (sample.containsKey(e)) {
                return e;
            }
        }
        return null;
    }

    /** The sample's label, or null when it has none (or one that cannot be read). */
    private String label(Map<String, TarMembers.Member> sample) {
        if (jsonLabelField == null) {
            TarMembers.Member cls = sample.get("cls");
            String text = cls == null || cls.bytes() == null ? ""
                    : new String(cls.bytes(), StandardCharsets.UTF_8).trim();
            return text.isEmpty() ? null : text;
        }
        TarMembers.Member json = sample.get("json");
        if (json == null || json.bytes() == null) {
            return null;
        }
        try {
            JsonElement root = JsonParser.parseString(new String(json.bytes(), StandardCharsets.UTF_8));
            JsonElement v = root.isJsonObject() ? field(root.getAsJsonObject(), jsonLabelField) : null;
            if (v == null || v.isJsonNull() || !v.isJsonPrimitive()) {
                return null;
            }
            String s = v.getAsJsonPrimitive().isNumber() ? number(v.getAsNumber().toString()) : v.getAsString().trim();
            return s.isEmpty() ? null : s;
        } catch (RuntimeException e) {
            return null; // JSON it cannot parse: the sample has no label, reported as such
        }
    }

    /** A field by name, or by a dotted path into nested objects ({@code meta.label}). */
    private static JsonElement field(JsonObject o, String path) {
        if (o.has(path)) {
            return o.get(path);
        }
        JsonElement cur = o;
        for (String part : path.split("\\.")) {
            if (!cur.isJsonObject() || !cur.getAsJsonObject().has(part)) {
                return null;
            }
            cur = cur.getAsJsonObject().get(part);
        }
        return cur;
    }

    /** A JSON number as a label: 3.0 and 3 are the class 3. */
    private static String number(String s) {
        return s.endsWith(".0") ? s.substring(0, s.length() - 2) : s;
    }

    /**
     * WebDataset's {@code base_plus_ext}: the key is the path up to the first dot of the file name,
     * the extension the rest (lower-cased); null when the file name has no dot.
     */
    public static String[] keyAndExtension(String name) {
        int slash = name.lastIndexOf('/');
        int dot = name.indexOf('.', slash + 1);
        if (dot <= slash + 1 || dot == name.length() - 1) {
            return null;
        }
        return new String[] {name.substring(0, dot), name.substring(dot + 1).toLowerCase(Locale.ROOT)};
    }
}
