package siameseim.model.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.zip.CRC32;
import org.apache.commons.compress.archivers.zip.Zip64Mode;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.apache.commons.compress.archivers.zip.ZipMethod;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.Path;
import siameseim.model.io.TorchPickle.Storage;
import siameseim.model.io.TorchPickle.TensorRef;

/**
 * PyTorch's own file format since 1.6, as {@code torch.save} writes it: a zip archive (entries
 * stored, not compressed) with {@code <name>/data.pkl}, a pickle whose tensors point by
 * persistent id at storages {@code <name>/data/<key>}, and {@code <name>/version}. Read from any
 * Hadoop file system through a seekable stream (the zip directory is at the end; Commons Compress
 * parses it, including ZIP64), unpickled safely ({@link TorchPickle}); each storage is read once,
 * straight from its entry's offset, when its tensors are asked for, so neither the file nor a
 * tensor is held twice. Written ({@link #write}) as {@code {'model': state_dict}}, which
 * {@code torch.load(weights_only=True)} of PyTorch 1.13 and later reads.
 */
public final class TorchZip implements Closeable {
    /** The first bytes of a zip archive's first local header. */
    public static final byte[] ZIP_MAGIC = {'P', 'K', 3, 4};
    /**
     * data.pkl above this is refused: a ViT-B training checkpoint's is about 100 KB, and the
     * objects a pickle builds grow with its length (this keeps them within a driver's heap).
     */
    static final int MAX_PICKLE_BYTES = 16 << 20;
    /** Threads that read storages at once (at most the cores). */
    static final int READ_THREADS = 4;

    private final String source;
    /** The file: a FileChannel for a local file, else a channel over the Hadoop stream. */
    private final SeekableByteChannel file;
    private final FSDataInputStream in;
    private final ZipFile zip;
    private final Map<String, ZipArchiveEntry> storageEntries;
    private final Object root;
    private final boolean byteBufferReads;
    private final long length;

    private TorchZip(String source, SeekableByteChannel file, FSDataInputStream in, ZipFile zip,
            Map<String, ZipArchiveEntry> storageEntries, Object root, long length) {
        this.length = length;
        this.source = source;
        this.file = file;
        this.in = in;
        this.zip = zip;
        this.storageEntries = storageEntries;
        this.root = root;
        this.byteBufferReads = in != null && in.hasCapability("in:preadbytebuffer");
    }

    /** Opens {@code path}, reads the zip directory and unpickles {@code data.pkl} (no tensor data). */
    public static TorchZip open(FileSystem fs, Path path, String source) throws IOException {
        long length = fs.getFileStatus(path).getLen();
        // A local file is read through a FileChannel: positioned reads straight into the tensors'
        // memory, one copy from the page cache as torch.load makes (Hadoop's local streams read
        // only into heap arrays: twice the copying, measured by bench --only pth). Files written
        // by PyTorch have no .crc to check.
        FileSystem raw = fs instanceof LocalFileSystem local ? local.getRaw() : fs;
        FSDataInputStream in = raw instanceof RawLocalFileSystem ? null : raw.open(path);
        SeekableByteChannel file = in == null
                ? FileChannel.open(((RawLocalFileSystem) raw).pathToFile(path).toPath(), StandardOpenOption.READ)
                : new Channel(in, length);
        ZipFile zip = null;
        try {
            try {
                // the local headers are read when a storage is (one small read each), not all on open
                zip = ZipFile.builder().setSeekableByteChannel(file).setUseUnicodeExtraFields(false)
                        .setIgnoreLocalFileHeader(true).get();
            } catch (IOException | RuntimeException e) {
                throw new CorruptFileException(source + ": not a readable zip archive (" + e.getMessage()
                        + "): a torch.save file cut short or damaged");
            }
            String prefix = null;
            List<String> names = new ArrayList<>();
            for (ZipArchiveEntry e : Collections.list(zip.getEntries())) {
                names.add(e.getName());
                int slash = e.getName().indexOf('/');
                if (slash > 0 && e.getName().substring(slash).equals("/data.pkl") && prefix == null) {
                    prefix = e.getName().substring(0, slash + 1);
                }
            }
            String p = prefix;
            if (names.stream().anyMatch(n -> n.endsWith("/constants.pkl") || n.contains("/code/"))) {
                throw new CorruptFileException(source + " is a TorchScript archive (torch.jit.save), not a state"
                        + " dict: in Python, torch.save({'model': torch.jit.load(f).state_dict()}, 'weights.pth')");
            }
            if (p == null) {
                throw new CorruptFileException(source + " is a zip archive but not a torch.save file (no <name>/data.pkl"
                        + " among " + String.join(", ", names.stream().limit(5).toList())
                        + (names.size() > 5 ? ", ..." : "") + ")");
            }
            ZipArchiveEntry order = zip.getEntry(p + "byteorder"); // since PyTorch 2.1; little-endian before
            if (order != null && order.getSize() < 16) {
                byte[] b = new byte[(int) order.getSize()];
                try (InputStream oin = zip.getInputStream(order)) {
                    readFully(oin, b, source + ": byteorder");
                }
                String o = new String(b, StandardCharsets.US_ASCII).strip();
                if (!o.equals("little")) {
                    throw new CorruptFileException(source + " was saved on a " + o + "-endian machine; re-save it on a"
                            + " little-endian one (x86, ARM)");
                }
            }
            ZipArchiveEntry pkl = zip.getEntry(p + "data.pkl");
            if (pkl.getSize() > MAX_PICKLE_BYTES || pkl.getSize() < 0) {
                throw new CorruptFileException(source + ": data.pkl declares " + pkl.getSize() + " bytes; more than "
                        + MAX_PICKLE_BYTES + " is not a state dict's");
            }
            Map<String, ZipArchiveEntry> storages = new HashMap<>();
            Map<String, Long> sizes = new HashMap<>();
            for (ZipArchiveEntry e : Collections.list(zip.getEntries())) {
                if (e.getName().startsWith(p + "data/") && !e.isDirectory()) {
                    String key = e.getName().substring(p.length() + 5);
                    // sizes come from the zip directory: checked against the file before anything is allocated
                    if (e.getMethod() != ZipMethod.STORED.getCode()) {
                        throw new CorruptFileException(source + ": storage entry " + e.getName() + " is compressed"
                                + " (zip method " + e.getMethod() + "); torch.save stores storages uncompressed");
                    }
                    if (e.getCompressedSize() != e.getSize()) {
                        throw new CorruptFileException(source + ": storage entry " + e.getName() + " is stored with "
                                + e.getCompressedSize() + " bytes but declares " + e.getSize() + ": a damaged zip directory");
                    }
                    if (e.getSize() < 0 || e.getLocalHeaderOffset() < 0 || e.getLocalHeaderOffset() + e.getSize() > length) {
                        throw new CorruptFileException(source + ": truncated: storage entry " + e.getName() + " declares "
                                + e.getSize() + " bytes at offset " + e.getLocalHeaderOffset() + ", past the file's "
                                + length + " bytes");
                    }
                    storages.put(key, e);
                    sizes.put(key, e.getSize());
                }
            }
            byte[] pickle = new byte[(int) pkl.getSize()];
            try (InputStream pin = zip.getInputStream(pkl)) {
                readFully(pin, pickle, source + ": data.pkl");
            }
            Object root = TorchPickle.load(pickle, sizes, source);
            return new TorchZip(source, file, in, zip, storages, root, length);
        } catch (IOException | RuntimeException e) {
            if (zip != null) {
                zip.close();
            }
            file.close();
            if (in != null) {
                in.close();
            }
            throw e;
        }
    }

    /** The unpickled object: dicts are maps, tuples arrays, tensors {@code TensorRef}s. */
    Object root() {
        return root;
    }

    /** The named value of the root dict (e.g. {@code epoch}), or null. */
    public Object get(String key) {
        return root instanceof Map<?, ?> m ? m.get(key) : null;
    }

    /**
     * The attributes of an object the pickle built inertly (e.g. the {@code args}
     * {@code argparse.Namespace} of a training checkpoint: its {@code __dict__}), or null.
     */
    public static Map<?, ?> attributes(Object value) {
        return value instanceof TorchPickle.Opaque o && o.state() != null && o.state()[0] instanceof Map<?, ?> m
                ? m : null;
    }

    /**
     * The state dict: {@code root['model']} (the official code, MAE, DeiT), {@code root['state_dict']}
     * or {@code root['module']}, else the root itself (timm, Hugging Face's {@code pytorch_model.bin}),
     * with a {@code module.} prefix (a model saved inside DistributedDataParallel) removed.
     */
    Map<String, TensorRef> stateDict() throws CorruptFileException {
        Object sd = root;
        if (root instanceof Map<?, ?> m) {
            for (String k : new String[] {"model", "state_dict", "module"}) {
                if (m.get(k) instanceof Map<?, ?> inner) {
                    sd = inner;
                    break;
                }
            }
        }
        if (!(sd instanceof Map<?, ?> map)) {
            throw new CorruptFileException(source + " holds a " + TorchPickle.kind(sd) + ", not a state dict");
        }
        Map<String, TensorRef> out = new LinkedHashMap<>();
        boolean ddp = !map.isEmpty() && map.keySet().stream().allMatch(k -> k instanceof String s && s.startsWith("module."));
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (e.getKey() instanceof String name && e.getValue() instanceof TensorRef t) {
                out.put(ddp ? name.substring(7) : name, t);
            }
        }
        if (out.isEmpty()) {
            List<String> keys = map.keySet().stream().limit(8).map(String::valueOf).toList();
            throw new CorruptFileException(source + " holds no tensors where a state dict should be (keys: "
                    + String.join(", ", keys) + (map.size() > 8 ? ", ..." : "") + ")");
        }
        return out;
    }

    /** The state dict's tensors, names, dtypes and shapes (no data read). */
    public List<WeightsFile.Tensor> tensors() throws CorruptFileException {
        List<WeightsFile.Tensor> out = new ArrayList<>();
        for (Map.Entry<String, TensorRef> e : stateDict().entrySet()) {
            Storage s = e.getValue().storage();
            out.add(new WeightsFile.Tensor(e.getKey(), s.dtype(), new Shape(e.getValue().shape())));
        }
        return out;
    }

    /**
     * The floating-point tensors of the state dict whose names {@code names} accepts, as float32
     * arrays of {@code manager} (F16, BF16 and F64 widened in Java, views gathered by their
     * strides); integer buffers such as {@code num_batches_tracked} are skipped. Each storage is
     * read once: a float32 storage that is one whole tensor straight into that tensor's memory;
     * any other into a buffer that its tensors are built from and that is then dropped.
     */
    public Map<String, NDArray> read(Predicate<String> names, NDManager manager) throws IOException {
        return read(stateDict(), names, manager);
    }

    /**
     * Every floating-point tensor anywhere in the file (the state dict, optimizer moments, ...),
     * named by its path of dict keys and list indices ({@code model.blocks.0.attn.qkv.weight},
     * {@code optimizer.state.3.exp_avg}): what {@code torch.load} materialises.
     */
    public Map<String, NDArray> readAll(NDManager manager) throws IOException {
        Map<String, TensorRef> all = new LinkedHashMap<>();
        collect(root, "", all, 0);
        return read(all, n -> true, manager);
    }

    private static void collect(Object v, String path, Map<String, TensorRef> out, int depth) {
        if (depth > 64) {
            return;
        }
        String p = path.isEmpty() ? "" : path + ".";
        if (v instanceof TensorRef t) {
            out.put(path, t);
        } else if (v instanceof Map<?, ?> m) {
            m.forEach((k, x) -> collect(x, p + k, out, depth + 1));
        } else if (v instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) {
                collect(l.get(i), p + i, out, depth + 1);
            }
        } else if (v instanceof Object[] a) {
            for (int i = 0; i < a.length; i++) {
                collect(a[i], p + i, out, depth + 1);
            }
        }
    }

    private Map<String, NDArray> read(Map<String, TensorRef> sd, Predicate<String> names, NDManager manager)
            throws IOException {
        Map<Storage, List<String>> byStorage = new IdentityHashMap<>();
        for (Map.Entry<String, TensorRef> e : sd.entrySet()) {
            if (e.getValue().storage().floating() && names.test(e.getKey())) {
                byStorage.computeIfAbsent(e.getValue().storage(), k -> new ArrayList<>()).add(e.getKey());
            }
        }
        long storageFloats = 0;
        long tensorFloats = 0;
        for (Map.Entry<Storage, List<String>> e : byStorage.entrySet()) {
            storageFloats += e.getKey().numel();
            for (String name : e.getValue()) {
                tensorFloats += sd.get(name).numel();
            }
        }
        if (tensorFloats > 2 * storageFloats + (1 << 20)) { // views may share storage; not a thousandfold
            throw new CorruptFileException(source + ": its tensors declare " + tensorFloats + " elements over storages of "
                    + storageFloats + ": too many views of the same data to be a state dict");
        }
        List<Storage> order = new ArrayList<>(byStorage.keySet());
        order.sort(Comparator.comparingLong(s -> storageEntries.get(s.key()).getLocalHeaderOffset()));
        // Storages are independent: read on a few threads (positioned reads; torch.load reads one
        // at a time), the largest first so that the threads finish together.
        order.sort(Comparator.comparingLong((Storage s) -> -s.numel() * s.elementBytes()));
        Map<String, NDArray> loaded = new java.util.concurrent.ConcurrentHashMap<>();
        int threads = (int) Math.min(Math.min(READ_THREADS, Runtime.getRuntime().availableProcessors()), order.size());
        if (threads <= 1) {
            for (Storage s : order) {
                readStorage(s, byStorage.get(s), sd, manager, loaded);
            }
        } else {
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, "torchzip-read");
                t.setDaemon(true);
                return t;
            });
            try {
                List<java.util.concurrent.Future<?>> done = new ArrayList<>();
                for (Storage s : order) {
                    done.add(pool.submit(() -> {
                        readStorage(s, byStorage.get(s), sd, manager, loaded);
                        return null;
                    }));
                }
                for (java.util.concurrent.Future<?> f : done) {
                    try {
                        f.get();
                    } catch (java.util.concurrent.ExecutionException e) {
                        if (e.getCause() instanceof IOException io) {
                            throw io;
                        }
                        if (e.getCause() instanceof RuntimeException re) {
                            throw re;
                        }
                        throw new IOException(source + ": " + e.getCause(), e.getCause());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new java.io.InterruptedIOException("interrupted while reading " + source);
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (String name : sd.keySet()) {
            if (loaded.containsKey(name)) {
                out.put(name, loaded.get(name));
            }
        }
        return out;
    }

    /** One storage's tensors into {@code loaded}. */
    private void readStorage(Storage s, List<String> views, Map<String, TensorRef> sd, NDManager manager,
            Map<String, NDArray> loaded) throws IOException {
        TensorRef first = sd.get(views.get(0));
        if (s.dtype() == DataType.FLOAT32 && views.size() == 1 && first.offset() == 0 && first.numel() == s.numel()
                && first.contiguous()) {
            // the usual case: one float32 tensor that is its whole storage, read straight into its memory
            NDArray a = manager.create(new Shape(first.shape()), DataType.FLOAT32);
            ByteBuffer target = a.toByteBuffer(true);
            if (target.isDirect() && target.capacity() == s.numel() * 4) {
                readInto(s, target);
                loaded.put(views.get(0), a);
                return;
            }
            a.close();
        }
        ByteBuffer bytes = storageBytes(s);
        for (String name : views) {
            loaded.put(name, create(manager, bytes, sd.get(name)));
        }
    }

    private ByteBuffer storageBytes(Storage s) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(Math.toIntExact(storageEntries.get(s.key()).getSize()));
        readInto(s, buf);
        return buf.flip().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Reads storage {@code s} (stored uncompressed, bounds checked on open) into {@code buf} from its position. */
    private void readInto(Storage s, ByteBuffer buf) throws IOException {
        ZipArchiveEntry e = storageEntries.get(s.key());
        long n = e.getSize();
        if (n > Integer.MAX_VALUE) {
            throw new CorruptFileException(source + ": storage " + s.key() + " has " + n
                    + " bytes; tensors above 2 GiB are not supported");
        }
        long at = dataOffset(e);
        if (at + n > length) {
            throw new CorruptFileException(source + ": truncated: storage entry " + e.getName() + " declares " + n
                    + " bytes at offset " + at + ", past the file's " + length + " bytes");
        }
        long start = at;
        int end = buf.position() + (int) n;
        try {
            if (file instanceof FileChannel fc) { // a local file
                ByteBuffer dst = buf.duplicate().limit(end);
                while (dst.hasRemaining()) {
                    if (fc.read(dst, at) < 0) {
                        throw new EOFException();
                    }
                    at = start + dst.position() - buf.position();
                }
                buf.position(end);
                return;
            }
            if (byteBufferReads) { // straight into the buffer (HDFS)
                ByteBuffer dst = buf.duplicate().limit(end);
                while (dst.hasRemaining()) {
                    int r = in.read(at, dst);
                    if (r < 0) {
                        throw new EOFException();
                    }
                    at += r;
                }
                buf.position(end);
                return;
            }
            byte[] chunk = new byte[(int) Math.min(n, 1 << 20)];
            while (buf.position() < end) {
                int want = Math.min(chunk.length, end - buf.position());
                in.readFully(at, chunk, 0, want);
                buf.put(chunk, 0, want);
                at += want;
            }
        } catch (EOFException eof) {
            throw new CorruptFileException(source + ": truncated: storage data/" + s.key() + " ends past the end of"
                    + " the file");
        }
    }

    /** Where an entry's data starts: after its local header (30 bytes, its name and its extra field). */
    private long dataOffset(ZipArchiveEntry e) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(30).order(ByteOrder.LITTLE_ENDIAN);
        long at = e.getLocalHeaderOffset();
        synchronized (file) {
            file.position(at);
            while (h.hasRemaining() && file.read(h) >= 0) {
                // a local header is 30 bytes
            }
        }
        if (h.hasRemaining() || h.getInt(0) != 0x04034b50) {
            throw new CorruptFileException(source + ": no local zip header for " + e.getName() + " at offset " + at
                    + ": a damaged zip directory");
        }
        return at + 30 + (h.getShort(26) & 0xffff) + (h.getShort(28) & 0xffff);
    }

    /** A float32 array for {@code t}: the storage's bytes themselves when already contiguous float32. */
    private static NDArray create(NDManager manager, ByteBuffer storage, TensorRef t) {
        Storage s = t.storage();
        Shape shape = new Shape(t.shape());
        int numel = Math.toIntExact(t.numel());
        if (t.contiguous()) {
            ByteBuffer slice = storage.slice((int) (t.offset() * s.elementBytes()), numel * s.elementBytes())
                    .order(ByteOrder.LITTLE_ENDIAN);
            return s.dtype() == DataType.FLOAT32 ? manager.create(slice, shape, DataType.FLOAT32)
                    : manager.create(Safetensors.widen(slice, s.dtype()), shape, DataType.FLOAT32);
        }
        ByteBuffer out = ByteBuffer.allocateDirect(numel * 4).order(ByteOrder.nativeOrder());
        long[] dims = t.shape();
        long[] stride = t.stride();
        long[] index = new long[dims.length];
        long at = t.offset();
        for (int i = 0; i < numel; i++) {
            out.putFloat(4 * i, element(storage, s.dtype(), at));
            for (int d = dims.length - 1; d >= 0; d--) { // odometer over the view's indices
                index[d]++;
                at += stride[d];
                if (index[d] < dims[d]) {
                    break;
                }
                at -= stride[d] * index[d];
                index[d] = 0;
            }
        }
        return manager.create(out, shape, DataType.FLOAT32);
    }

    private static float element(ByteBuffer b, DataType t, long i) {
        return switch (t) {
            case FLOAT32 -> b.getFloat((int) (4 * i));
            case FLOAT16 -> Safetensors.halfToFloat(b.getShort((int) (2 * i)));
            case BFLOAT16 -> Float.intBitsToFloat((b.getShort((int) (2 * i)) & 0xffff) << 16);
            default -> (float) b.getDouble((int) (8 * i));
        };
    }

    @Override
    public void close() throws IOException {
        try {
            zip.close();
        } finally {
            file.close();
            if (in != null) {
                in.close();
            }
        }
    }

    /**
     * Writes {@code {'model': OrderedDict(name -> tensor)}} (float32 tensors) as torch.save does:
     * entries {@code archive/data.pkl}, {@code archive/byteorder}, {@code archive/data/<i>} (stored,
     * aligned to 64 bytes) and {@code archive/version}. The pickle is written here, opcode by
     * opcode, because Pyrolite's pickler cannot emit persistent ids; it uses only opcodes that
     * torch's weights-only unpickler (1.13 and later) accepts.
     */
    public static void write(OutputStream out, Map<String, NDArray> tensors) throws IOException {
        List<ByteBuffer> data = new ArrayList<>();
        ByteArrayOutputStream pkl = new ByteArrayOutputStream();
        Pickle p = new Pickle(pkl);
        p.op(0x80).op(2); // PROTO 2
        p.op('}').str("model").global("collections", "OrderedDict").op(')').op('R').op('(');
        int key = 0;
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            NDArray a = e.getValue();
            if (a.getDataType() != DataType.FLOAT32) {
                throw new IllegalArgumentException("tensor " + e.getKey() + " is " + a.getDataType() + ", not float32");
            }
            long[] shape = a.getShape().getShape();
            p.str(e.getKey()).global("torch._utils", "_rebuild_tensor_v2").op('(');
            p.op('(').str("storage").global("torch", "FloatStorage").str(Integer.toString(key)).str("cpu")
                    .integer(a.size()).op('t').op('Q');
            p.integer(0).op('(');
            for (long d : shape) {
                p.integer(d);
            }
            p.op('t').op('(');
            long stride = 1;
            long[] strides = new long[shape.length];
            for (int i = shape.length - 1; i >= 0; i--) {
                strides[i] = stride;
                stride *= shape[i];
            }
            for (long s : strides) {
                p.integer(s);
            }
            p.op('t').op(0x89).global("collections", "OrderedDict").op(')').op('R').op('t').op('R');
            data.add(Safetensors.hostBytes(a));
            key++;
        }
        p.op('u').op('s').op('.');

        ZipArchiveOutputStream z = new ZipArchiveOutputStream(out);
        z.setUseZip64(Zip64Mode.AsNeeded);
        z.setMethod(ZipArchiveOutputStream.STORED);
        entry(z, "archive/data.pkl", ByteBuffer.wrap(pkl.toByteArray()));
        entry(z, "archive/byteorder", ByteBuffer.wrap("little".getBytes(StandardCharsets.US_ASCII)));
        for (int i = 0; i < data.size(); i++) {
            entry(z, "archive/data/" + i, data.get(i));
        }
        entry(z, "archive/version", ByteBuffer.wrap("3\n".getBytes(StandardCharsets.US_ASCII)));
        z.finish();
        out.flush();
    }

    private static void entry(ZipArchiveOutputStream z, String name, ByteBuffer bytes) throws IOException {
        ZipArchiveEntry e = new ZipArchiveEntry(name);
        e.setMethod(ZipArchiveEntry.STORED);
        e.setSize(bytes.remaining());
        e.setTime(315532800000L); // 1980-01-01, as torch.save
        CRC32 crc = new CRC32();
        crc.update(bytes.duplicate());
        e.setCrc(crc.getValue());
        e.setAlignment(64); // torch aligns storages so that they can be memory-mapped
        z.putArchiveEntry(e);
        byte[] chunk = new byte[1 << 16];
        ByteBuffer b = bytes.duplicate();
        while (b.hasRemaining()) {
            int n = Math.min(chunk.length, b.remaining());
            b.get(chunk, 0, n);
            z.write(chunk, 0, n);
        }
        z.closeArchiveEntry();
    }

    /** The few protocol-2 opcodes {@link #write} needs. */
    private static final class Pickle {
        private final ByteArrayOutputStream out;

        Pickle(ByteArrayOutputStream out) {
            this.out = out;
        }

        Pickle op(int code) {
            out.write(code);
            return this;
        }

        Pickle str(String s) { // BINUNICODE
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            op('X').int4(b.length);
            out.writeBytes(b);
            return this;
        }

        Pickle global(String module, String name) {
            op('c');
            out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
            return this;
        }

        Pickle integer(long v) {
            if (v < 0 || v > Integer.MAX_VALUE) {
                byte[] b = java.math.BigInteger.valueOf(v).toByteArray(); // LONG1: little-endian two's complement
                op(0x8a).op(b.length);
                for (int i = b.length - 1; i >= 0; i--) {
                    out.write(b[i]);
                }
                return this;
            }
            return op('J').int4((int) v); // BININT
        }

        private Pickle int4(int v) {
            for (int i = 0; i < 4; i++) {
                out.write((v >>> (8 * i)) & 0xff);
            }
            return this;
        }
    }

    private static void readFully(InputStream in, byte[] b, String what) throws IOException {
        int at = 0;
        while (at < b.length) {
            int r = in.read(b, at, b.length - at);
            if (r < 0) {
                throw new CorruptFileException(what + " is cut short (" + at + " of " + b.length + " bytes)");
            }
            at += r;
        }
    }

    /** A read-only seekable channel over a Hadoop stream: what Commons Compress needs to find the zip directory. */
    private static final class Channel implements SeekableByteChannel {
        private final FSDataInputStream in;
        private final long size;
        private long position;
        private boolean open = true;

        Channel(FSDataInputStream in, long size) {
            this.in = in;
            this.size = size;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            if (!open) {
                throw new ClosedChannelException();
            }
            if (position >= size) {
                return -1;
            }
            int n = (int) Math.min(dst.remaining(), size - position);
            byte[] b = dst.hasArray() ? dst.array() : new byte[n];
            int off = dst.hasArray() ? dst.arrayOffset() + dst.position() : 0;
            in.readFully(position, b, off, n);
            if (!dst.hasArray()) {
                dst.put(b, 0, n);
            } else {
                dst.position(dst.position() + n);
            }
            position += n;
            return n;
        }

        @Override
        public int write(ByteBuffer src) {
            throw new NonWritableChannelException();
        }

        @Override
        public long position() {
            return position;
        }

        @Override
        public SeekableByteChannel position(long p) {
            position = p;
            return this;
        }

        @Override
        public long size() {
            return size;
        }

        @Override
        public SeekableByteChannel truncate(long s) {
            throw new NonWritableChannelException();
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public void close() {
            open = false; // the stream is closed by TorchZip
        }
    }
}
