package siameseim.datasets.prepare;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The variables of a MATLAB level-5 MAT-file (v5 and v7, compressed or not; not v7.3, which is
 * HDF5), as far as ImageNet's devkit needs: {@code data/meta.mat} holds the struct array
 * {@code synsets} (ILSVRC2012_ID, WNID, words, ...), read by {@code torchvision} with
 * {@code scipy.io.loadmat}. No Java library on Spark's class path reads MAT-files, and this
 * subset of the format (MathWorks, "MAT-File Format", level 5) is small: data elements of a
 * type and size, padded to 8 bytes (or packed into 8 when small), arrays as {@code miMATRIX}
 * elements of flags, dimensions, name and data, and {@code miCOMPRESSED} zlib streams.
 *
 * <p>Values: numeric arrays as {@code double[]} (column-major), character arrays as a String
 * (rows joined by newlines), struct arrays as a {@code List<Map<String, Object>>}, cell arrays
 * as a {@code List<Object>}.
 */
public final class MatFile {
    private MatFile() {}

    private static final int MI_INT8 = 1;
    private static final int MI_UINT8 = 2;
    private static final int MI_INT16 = 3;
    private static final int MI_UINT16 = 4;
    private static final int MI_INT32 = 5;
    private static final int MI_UINT32 = 6;
    private static final int MI_SINGLE = 7;
    private static final int MI_DOUBLE = 9;
    private static final int MI_INT64 = 12;
    private static final int MI_UINT64 = 13;
    private static final int MI_MATRIX = 14;
    private static final int MI_COMPRESSED = 15;
    private static final int MI_UTF8 = 16;

    private static final int MX_CELL = 1;
    private static final int MX_STRUCT = 2;
    private static final int MX_CHAR = 4;

    /** The file's variables by name, in file order. */
    public static Map<String, Object> read(byte[] file, String name) throws IOException {
        if (file.length < 128) {
            throw new IOException(name + " is no MAT-file (" + file.length + " bytes)");
        }
        String header = new String(file, 0, 116, StandardCharsets.US_ASCII);
        if (header.startsWith("\u0089HDF") || file[0] == (byte) 0x89) {
            throw new IOException(name + " is a MAT-file v7.3 (HDF5), which this reader does not read");
        }
        ByteOrder order = file[126] == 'I' && file[127] == 'M' ? ByteOrder.LITTLE_ENDIAN
                : file[126] == 'M' && file[127] == 'I' ? ByteOrder.BIG_ENDIAN : null;
        if (order == null || !header.startsWith("MATLAB 5.0 MAT-file")) {
            throw new IOException(name + " is no MATLAB level-5 MAT-file (header '" + header.trim() + "')");
        }
        ByteBuffer b = ByteBuffer.wrap(file, 128, file.length - 128).slice().order(order);
        Map<String, Object> out = new LinkedHashMap<>();
        try {
            while (b.remaining() >= 8) {
                Element e = element(b);
                ByteBuffer data = e.data;
                if (e.type == MI_COMPRESSED) {
                    data = ByteBuffer.wrap(inflate(e.data)).order(order);
                    e = element(data);
                }
                if (e.type == MI_MATRIX) {
                    String[] var = new String[1];
                    Object v = matrix(e.data, var);
                    out.put(var[0], v);
                }
            }
        } catch (RuntimeException | DataFormatException ex) {
            throw new IOException(name + " cannot be read as a MAT-file: " + ex, ex);
        }
        return out;
    }

    private record Element(int type, ByteBuffer data) {}

    /** The next data element of {@code b} (its data as a slice), moving past its padding. */
    private static Element element(ByteBuffer b) {
        int tag = b.getInt();
        int type;
        int size;
        if ((tag >>> 16) != 0) { // small data element: size in the upper half of the tag, data in 4 bytes
            type = tag & 0xffff;
            size = tag >>> 16;
            ByteBuffer data = b.slice(b.position(), size).order(b.order());
            b.position(b.position() + 4);
            return new Element(type, data);
        }
        type = tag;
        size = b.getInt();
        ByteBuffer data = b.slice(b.position(), size).order(b.order());
        int padded = type == MI_COMPRESSED ? size : (size + 7) / 8 * 8;
        b.position(Math.min(b.limit(), b.position() + padded));
        return new Element(type, data);
    }

    private static byte[] inflate(ByteBuffer data) throws DataFormatException {
        Inflater inf = new Inflater();
        inf.setInput(data);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[1 << 16];
        while (!inf.finished()) {
            int n = inf.inflate(buf);
            if (n == 0 && (inf.needsInput() || inf.needsDictionary())) {
                break;
            }
            out.write(buf, 0, n);
        }
        inf.end();
        return out.toByteArray();
    }

    /** An miMATRIX element's value; its name goes to {@code name[0]}. */
    private static Object matrix(ByteBuffer b, String[] name) {
        if (b.remaining() == 0) {
            name[0] = "";
            return new double[0]; // an empty array
        }
        ByteBuffer flags = element(b).data;
        int cls = flags.getInt(0) & 0xff;
        double[] dimsD = numbers(element(b));
        int count = 1;
        for (double d : dimsD) {
            count *= (int) d;
        }
        name[0] = new String(bytes(element(b).data), StandardCharsets.UTF_8);
        switch (cls) {
            case MX_STRUCT -> {
                int len = (int) numbers(element(b))[0];
                byte[] names = bytes(element(b).data);
                List<String> fields = new ArrayList<>();
                for (int i = 0; i + len <= names.length; i += len) {
                    int end = i;
                    while (end < i + len && names[end] != 0) {
                        end++;
                    }
                    fields.add(new String(names, i, end - i, StandardCharsets.UTF_8));
                }
                List<Map<String, Object>> out = new ArrayList<>(count);
                String[] ignored = new String[1];
                for (int k = 0; k < count; k++) {
                    Map<String, Object> s = new LinkedHashMap<>();
                    for (String f : fields) {
                        s.put(f, matrix(element(b).data, ignored));
                    }
                    out.add(s);
                }
                return out;
            }
            case MX_CELL -> {
                List<Object> out = new ArrayList<>(count);
                String[] ignored = new String[1];
                for (int k = 0; k < count; k++) {
                    out.add(matrix(element(b).data, ignored));
                }
                return out;
            }
            case MX_CHAR -> {
                Element e = element(b);
                String chars = e.type == MI_UTF8 || e.type == MI_UINT8 || e.type == MI_INT8
                        ? new String(bytes(e.data), StandardCharsets.UTF_8) : utf16(e.data);
                int rows = dimsD.length > 0 ? (int) dimsD[0] : 1;
                if (rows <= 1) {
                    return chars;
                }
                int cols = chars.length() / rows; // column-major: row r is chars r, r + rows, ...
                StringBuilder sb = new StringBuilder();
                for (int r = 0; r < rows; r++) {
                    if (r > 0) {
                        sb.append('\n');
                    }
                    for (int c = 0; c < cols; c++) {
                        sb.append(chars.charAt(c * rows + r));
                    }
                }
                return sb.toString();
            }
            default -> {
                return b.remaining() >= 8 ? numbers(element(b)) : new double[0]; // numeric: the real part
            }
        }
    }

    private static double[] numbers(Element e) {
        ByteBuffer d = e.data;
        int width = switch (e.type) {
            case MI_INT8, MI_UINT8 -> 1;
            case MI_INT16, MI_UINT16 -> 2;
            case MI_INT32, MI_UINT32, MI_SINGLE -> 4;
            case MI_DOUBLE, MI_INT64, MI_UINT64 -> 8;
            default -> throw new IllegalArgumentException("numeric data of type " + e.type);
        };
        double[] out = new double[d.remaining() / width];
        for (int i = 0; i < out.length; i++) {
            int at = i * width;
            out[i] = switch (e.type) {
                case MI_INT8 -> d.get(at);
                case MI_UINT8 -> d.get(at) & 0xff;
                case MI_INT16 -> d.getShort(at);
                case MI_UINT16 -> d.getShort(at) & 0xffff;
                case MI_INT32 -> d.getInt(at);
                case MI_UINT32 -> d.getInt(at) & 0xffffffffL;
                case MI_SINGLE -> d.getFloat(at);
                case MI_DOUBLE -> d.getDouble(at);
                default -> d.getLong(at);
            };
        }
        return out;
    }

    private static byte[] bytes(ByteBuffer d) {
        byte[] out = new byte[d.remaining()];
        d.duplicate().get(out);
        return out;
    }

    private static String utf16(ByteBuffer d) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i + 1 < d.remaining(); i += 2) {
            sb.append(d.getChar(i));
        }
        return sb.toString();
    }
}
