package siameseim.model.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (8-byte little-endian header length, JSON header, raw little-endian
 * data), read and written as streams so the same code serves local files, HDFS and S3.
 * It stores only tensors and string metadata: loading it never runs code.
 */
public final class Safetensors {
    /** Headers above this size are refused (a corrupt or hostile length field). */
    public static final long MAX_HEADER_BYTES = 100L << 20;

    private Safetensors() {}

    /** One tensor's directory entry; offsets are relative to the start of the data section. */
    public record Entry(String name, DataType dtype, Shape shape, long begin, long end) {
        public long bytes() {
            return end - begin;
        }
    }

    /** The parsed header: entries in file order, and the {@code __metadata__} map. */
    public record Header(List<Entry> entries, Map<String, String> metadata) {
        public Entry entry(String name) {
            for (Entry e : entries) {
                if (e.name().equals(name)) {
                    return e;
                }
            }
            return null;
        }
    }

    /** A whole file: metadata and tensors by name, in file order. */
    public record Contents(Map<String, String> metadata, Map<String, NDArray> tensors) {}

    /** Reads a whole stream into tensors owned by {@code manager}. */
    public static Contents read(InputStream in, NDManager manager, String source) throws IOException {
        return read(in, -1, manager, source);
    }

    /**
     * As {@link #read(InputStream, NDManager, String)}, checking first that the header describes
     * exactly {@code fileBytes} bytes (when not negative): a truncated or oversized file fails
     * before any tensor is allocated.
     */
    public static Contents read(InputStream in, long fileBytes, NDManager manager, String source) throws IOException {
        Header h = readHeader(in, fileBytes, source);
        return new Contents(h.metadata(), readTensors(in, h, manager, source));
    }

    public static Header readHeader(InputStream in, String source) throws IOException {
        return readHeader(in, -1, source);
    }

    /**
     * Reads and checks the header: entries whose byte counts match their dtype and shape, packed
     * back to back from offset 0, and, when {@code fileBytes} is not negative, a data section that
     * ends exactly where the file does.
     */
    public static Header readHeader(InputStream in, long fileBytes, String source) throws IOException {
        DataInputStream din = new DataInputStream(in);
        byte[] len = new byte[8];
        try {
            din.readFully(len);
        } catch (EOFException e) {
            throw new CorruptFileException(source + ": not a safetensors file (shorter than 8 bytes)");
        }
        long n = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n <= 1 || n > MAX_HEADER_BYTES) {
            throw new CorruptFileException(source + ": not a safetensors file (header length " + n + ")");
        }
        byte[] header = new byte[(int) n];
        try {
            din.readFully(header);
        } catch (EOFException e) {
            throw new CorruptFileException(source + ": truncated safetensors header");
        }
        JsonObject json;
        try {
            json = JsonParser.parseString(new String(header, StandardCharsets.UTF_8).trim()).getAsJsonObject();
        } catch (JsonParseException | IllegalStateException | StackOverflowError e) {
            throw new CorruptFileException(source + ": safetensors header is not a JSON object");
        }
        Map<String, String> meta = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonElement> e : json.entrySet()) {
            if (e.getKey().equals("__metadata__")) {
                try {
                    for (Map.Entry<String, JsonElement> m : e.getValue().getAsJsonObject().entrySet()) {
                        meta.put(m.getKey(), m.getValue().getAsString());
                    }
                } catch (RuntimeException bad) {
                    throw new CorruptFileException(source + ": safetensors __metadata__ is not a map of strings");
                }
                continue;
            }
            entries.add(parseEntry(e.getKey(), e.getValue(), source));
        }
        entries.sort(Comparator.comparingLong(Entry::begin));
        long expect = 0;
        for (Entry e : entries) {
            if (e.begin() != expect) {
                throw new CorruptFileException(source + ": tensor " + e.name() + " starts at " + e.begin()
                        + " where " + expect + " was expected (overlapping or gapped data)");
            }
            expect = e.end();
        }
        if (fileBytes >= 0 && fileBytes - 8 - n != expect) {
            long have = fileBytes - 8 - n;
            throw new CorruptFileException(source + (have < expect
                    ? ": truncated: the header describes " + expect + " bytes of tensor data, the file has " + have
                    : ": " + (have - expect) + " bytes after the last tensor's data (the header describes " + expect
                            + "): not one whole safetensors file"));
        }
        return new Header(Collections.unmodifiableList(entries), Collections.unmodifiableMap(meta));
    }

    private static Entry parseEntry(String name, JsonElement v, String source) throws IOException {
        try {
            JsonObject o = v.getAsJsonObject();
            if (!o.has("dtype") || !o.has("shape") || !o.has("data_offsets")) {
                throw new CorruptFileException(source + ": tensor " + name + " lacks dtype, shape or data_offsets");
            }
            DataType dtype = dtype(o.get("dtype").getAsString(), name, source);
            JsonArray s = o.getAsJsonArray("shape");
            long[] dims = new long[s.size()];
            long count = 1;
            for (int i = 0; i < dims.length; i++) {
                dims[i] = s.get(i).getAsLong();
                if (dims[i] < 0) {
                    throw new CorruptFileException(source + ": tensor " + name + " has a negative dimension");
                }
                count = Math.multiplyExact(count, dims[i]);
            }
            JsonArray off = o.getAsJsonArray("data_offsets");
            if (off.size() != 2) {
                throw new CorruptFileException(source + ": tensor " + name + " has " + off.size()
                        + " data offsets, not 2");
            }
            long begin = off.get(0).getAsLong();
            long end = off.get(1).getAsLong();
            if (begin < 0 || end < begin) {
                throw new CorruptFileException(source + ": tensor " + name + " has data offsets [" + begin + ", " + end
                        + "]");
            }
            if (end - begin > Integer.MAX_VALUE) {
                throw new CorruptFileException(source + ": tensor " + name + " has " + (end - begin)
                        + " bytes; tensors above 2 GiB are not supported");
            }
            if (end - begin != Math.multiplyExact(count, (long) dtype.getNumOfBytes())) {
                throw new CorruptFileException(source + ": tensor " + name + " has " + (end - begin) + " bytes for shape "
                        + new Shape(dims) + " of " + dtype);
            }
            return new Entry(name, dtype, new Shape(dims), begin, end);
        } catch (RuntimeException e) {
            throw new CorruptFileException(source + ": malformed safetensors entry for " + name
                    + (e.getMessage() != null ? ": " + e.getMessage() : " (" + e.getClass().getSimpleName() + ")"));
        }
    }

    /** Reads the data section after {@link #readHeader}; every tensor is checked for truncation. */
    public static Map<String, NDArray> readTensors(InputStream in, Header h, NDManager manager, String source)
            throws IOException {
        Map<String, NDArray> out = new LinkedHashMap<>();
        DataInputStream din = new DataInputStream(in);
        for (Entry e : h.entries()) {
            out.put(e.name(), create(manager, readBytes(din, e, source), e));
        }
        return out;
    }

    /**
     * The entry's tensor from its bytes: F16, BF16 and F64 are widened to float32 here, in Java,
     * so that no native call ever sees a dtype the engine may not build from a buffer.
     */
    public static NDArray create(NDManager manager, ByteBuffer bytes, Entry e) {
        DataType t = e.dtype();
        if (t == DataType.FLOAT16 || t == DataType.BFLOAT16 || t == DataType.FLOAT64) {
            return manager.create(widen(bytes, t), e.shape(), DataType.FLOAT32);
        }
        return manager.create(bytes, e.shape(), t);
    }

    /** Little-endian F16, BF16 or F64 values as native-order float32. */
    static ByteBuffer widen(ByteBuffer bytes, DataType t) {
        ByteBuffer in = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int n = in.remaining() / t.getNumOfBytes();
        ByteBuffer out = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder());
        int p = in.position();
        for (int i = 0; i < n; i++) {
            float v = switch (t) {
                case FLOAT16 -> halfToFloat(in.getShort(p + 2 * i));
                case BFLOAT16 -> Float.intBitsToFloat((in.getShort(p + 2 * i) & 0xffff) << 16);
                default -> (float) in.getDouble(p + 8 * i);
            };
            out.putFloat(4 * i, v);
        }
        return out;
    }

    /** IEEE 754 binary16 to float (exact: every half value is a float). */
    static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13)); // infinity, NaN
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f; // zero or subnormal
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** Reads one entry's bytes (the stream must be positioned at its start). */
    public static ByteBuffer readBytes(DataInputStream din, Entry e, String source) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(Math.toIntExact(e.bytes())).order(ByteOrder.LITTLE_ENDIAN);
        byte[] chunk = new byte[1 << 16];
        long left = e.bytes();
        while (left > 0) {
            int r = din.read(chunk, 0, (int) Math.min(chunk.length, left));
            if (r < 0) {
                throw new CorruptFileException(source + ": truncated: tensor " + e.name() + " is missing "
                        + left + " of its " + e.bytes() + " bytes");
            }
            buf.put(chunk, 0, r);
            left -= r;
        }
        buf.flip();
        return buf;
    }

    /** Writes tensors (in map order) and string metadata. */
    public static void write(OutputStream out, Map<String, NDArray> tensors, Map<String, String> metadata)
            throws IOException {
        JsonObject header = new JsonObject();
        if (metadata != null && !metadata.isEmpty()) {
            JsonObject meta = new JsonObject();
            metadata.forEach(meta::addProperty);
            header.add("__metadata__", meta);
        }
        long offset = 0;
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            NDArray a = e.getValue();
            long bytes = a.size() * a.getDataType().getNumOfBytes();
            JsonObject o = new JsonObject();
            o.addProperty("dtype", dtypeName(a.getDataType(), e.getKey()));
            JsonArray shape = new JsonArray();
            for (long d : a.getShape().getShape()) {
                shape.add(d);
            }
            o.add("shape", shape);
            JsonArray off = new JsonArray();
            off.add(offset);
            off.add(offset + bytes);
            o.add("data_offsets", off);
            header.add(e.getKey(), o);
            offset += bytes;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer prefix = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        prefix.putLong(padded).put(json);
        while (prefix.hasRemaining()) {
            prefix.put((byte) ' ');
        }
        out.write(prefix.array());
        WritableByteChannel ch = Channels.newChannel(out);
        for (NDArray a : tensors.values()) {
            ByteBuffer data = hostBytes(a);
            while (data.hasRemaining()) {
                ch.write(data);
            }
        }
        out.flush();
    }

    /** The tensor's bytes in little-endian order (aliases CPU storage when DJL can). */
    public static ByteBuffer hostBytes(NDArray a) {
        ByteBuffer b = a.toByteBuffer(true);
        if (b.order() != ByteOrder.LITTLE_ENDIAN) {
            throw new IllegalStateException("big-endian host: safetensors needs little-endian data");
        }
        return b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    static DataType dtype(String name, String tensor, String source) throws IOException {
        return switch (name) {
            case "F32" -> DataType.FLOAT32;
            case "F64" -> DataType.FLOAT64;
            case "F16" -> DataType.FLOAT16;
            case "BF16" -> DataType.BFLOAT16;
            case "I64" -> DataType.INT64;
            case "I32" -> DataType.INT32;
            case "I8" -> DataType.INT8;
            case "U8" -> DataType.UINT8;
            case "BOOL" -> DataType.BOOLEAN;
            default -> throw new CorruptFileException(source + ": tensor " + tensor + " has unsupported dtype " + name);
        };
    }

    static String dtypeName(DataType t, String tensor) {
        return switch (t) {
            case FLOAT32 -> "F32";
            case FLOAT64 -> "F64";
            case FLOAT16 -> "F16";
            case BFLOAT16 -> "BF16";
            case INT64 -> "I64";
            case INT32 -> "I32";
            case INT8 -> "I8";
            case UINT8 -> "U8";
            case BOOLEAN -> "BOOL";
            default -> throw new IllegalArgumentException("tensor " + tensor + ": dtype " + t
                    + " cannot be stored in safetensors");
        };
    }
}
