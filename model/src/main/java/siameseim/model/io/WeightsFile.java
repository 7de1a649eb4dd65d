package siameseim.model.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A file of weights, whichever of the two formats it is, told apart by its first bytes (never by
 * its name): a torch.save zip archive ({@code PK\3\4}: {@link TorchZip}) or safetensors (ours,
 * Hugging Face's, or an export). A legacy torch.save file of PyTorch before 1.6 (a bare pickle)
 * is refused in one line that says how to re-save it. Tensors are listed without reading their
 * data, then read selectively.
 */
public final class WeightsFile implements Closeable {
    /** One tensor as the file declares it; {@code dtype} is null for a type DJL has no name for. */
    public record Tensor(String name, DataType dtype, Shape shape) {
        public boolean floating() {
            return FLOATS.contains(dtype);
        }
    }

    private static final Set<DataType> FLOATS = Set.of(DataType.FLOAT32, DataType.FLOAT16, DataType.BFLOAT16,
            DataType.FLOAT64);

    private final String source;
    private final TorchZip torch;
    private final FSDataInputStream stream;
    private final Safetensors.Header header;
    private boolean consumed;

    private WeightsFile(String source, TorchZip torch, FSDataInputStream stream, Safetensors.Header header) {
        this.source = source;
        this.torch = torch;
        this.stream = stream;
        this.header = header;
    }

    /** Opens {@code path} and reads its directory (the safetensors header, or the archive's pickle). */
    public static WeightsFile open(String path, Configuration conf) throws IOException {
        Path p = new Path(path);
        FileSystem fs = p.getFileSystem(conf);
        long length = fs.getFileStatus(p).getLen();
        byte[] magic = new byte[4];
        try (FSDataInputStream in = fs.open(p)) {
            try {
                in.readFully(0, magic, 0, (int) Math.min(4, length));
            } catch (EOFException e) {
                throw new CorruptFileException(path + ": empty or cut short (" + length + " bytes)");
            }
        }
        if (Arrays.equals(magic, TorchZip.ZIP_MAGIC)) {
            return new WeightsFile(path, TorchZip.open(fs, p, path), null, null);
        }
        if ((magic[0] & 0xff) == 0x80 && magic[1] >= 0 && magic[1] <= 5) {
            throw new CorruptFileException(path + " is a torch.save file in the legacy format of PyTorch before 1.6"
                    + " (a bare pickle), which is not read here: re-save it with PyTorch 1.6 or later, e.g."
                    + " torch.save(torch.load(f, map_location='cpu'), 'weights.pth')");
        }
        FSDataInputStream in = fs.open(p);
        try {
            return new WeightsFile(path, null, in, Safetensors.readHeader(in, length, path));
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
    }

    public boolean isTorch() {
        return torch != null;
    }

    /** The torch.save archive, for the values around the state dict (epoch, optimizer); null for safetensors. */
    public TorchZip torch() {
        return torch;
    }

    /** String metadata (safetensors' {@code __metadata__}); empty for torch.save files. */
    public Map<String, String> metadata() {
        return torch != null ? Map.of() : header.metadata();
    }

    /** The tensors, in file order: a torch.save file's state dict, or every safetensors entry. */
    public List<Tensor> tensors() throws IOException {
        if (torch != null) {
            return torch.tensors();
        }
        List<Tensor> out = new ArrayList<>();
        for (Safetensors.Entry e : header.entries()) {
            out.add(new Tensor(e.name(), e.dtype(), e.shape()));
        }
        return out;
    }

    /** The named tensor, or null. */
    public Tensor tensor(String name) throws IOException {
        return tensors().stream().filter(t -> t.name().equals(name)).findFirst().orElse(null);
    }

    /**
     * Reads the floating-point tensors that {@code names} accepts (float32 arrays of
     * {@code manager}; F16, BF16 and F64 widened in Java) and, for safetensors, the other accepted
     * tensors as they are; a torch.save file's integer buffers are skipped. Once per file.
     */
    public Map<String, NDArray> read(Predicate<String> names, NDManager manager) throws IOException {
        if (consumed) {
            throw new IllegalStateException(source + " was already read");
        }
        consumed = true;
        if (torch != null) {
            return torch.read(names, manager);
        }
        Map<String, NDArray> out = new LinkedHashMap<>();
        DataInputStream din = new DataInputStream(stream);
        for (Safetensors.Entry e : header.entries()) {
            if (names.test(e.name())) {
                out.put(e.name(), Safetensors.create(manager, Safetensors.readBytes(din, e, source), e));
            } else {
                try {
                    din.skipNBytes(e.bytes());
                } catch (EOFException eof) {
                    throw new CorruptFileException(source + ": truncated: tensor " + e.name());
                }
            }
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        if (torch != null) {
            torch.close();
        } else {
            stream.close();
        }
    }
}
