package siameseim.model.io;

import ai.djl.ndarray.types.DataType;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.PickleException;
import net.razorvine.pickle.Unpickler;

/**
 * The {@code data.pkl} of a torch.save archive, unpickled safely by construction, as
 * {@code torch.load(weights_only=True)} does: Pyrolite ({@code net.razorvine:pickle}, which Spark
 * ships) reads the data opcodes (numbers, strings, tuples, lists, dicts, memo), and every opcode
 * that names or calls a global ({@code GLOBAL}, {@code STACK_GLOBAL}, {@code INST}, {@code OBJ},
 * {@code REDUCE}, {@code NEWOBJ}, {@code BUILD}) is handled here instead of by Pyrolite's shared
 * constructor registry. Only torch's allowlist builds anything: {@code torch._utils._rebuild_tensor_v2}
 * and {@code _rebuild_parameter[_with_state]}, {@code torch._tensor._rebuild_from_type_v2},
 * {@code collections.OrderedDict} and the {@code torch.*Storage} classes (through
 * {@code persistent_load}). Any other global ({@code argparse.Namespace}, numpy scalars,
 * {@code torch.nn} classes) becomes an inert {@link Opaque} value; a global that could run code
 * if a Python unpickler called it ({@code os.system}, {@code builtins.eval}, ...) is refused.
 * Nothing is ever looked up by reflection, so no pickle can reach Java code either.
 */
final class TorchPickle {
    /** A tensor the pickle describes: its storage and view; no values are read here. */
    record TensorRef(Storage storage, long offset, long[] shape, long[] stride) {
        long numel() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        boolean contiguous() {
            long expect = 1;
            for (int i = shape.length - 1; i >= 0; i--) {
                if (shape[i] != 1 && stride[i] != expect) {
                    return false;
                }
                expect *= shape[i];
            }
            return true;
        }
    }

    /** A storage ({@code <archive>/data/<key>}): its element type and count as the pickle declares them. */
    record Storage(String key, String type, DataType dtype, int elementBytes, long numel) {
        boolean floating() {
            return dtype == DataType.FLOAT32 || dtype == DataType.FLOAT16 || dtype == DataType.BFLOAT16
                    || dtype == DataType.FLOAT64;
        }
    }

    /** A value of a class outside the allowlist (e.g. the {@code args} Namespace): kept, never called. */
    record Opaque(String global, Object[] args, Object[] state) {
        @Override
        public String toString() {
            return "<" + global + ">";
        }
    }

    /** A global the pickle named: what REDUCE / NEWOBJ may call. */
    private record Global(String module, String name) {
        String qualified() {
            return module + "." + name;
        }
    }

    /**
     * Modules through which a Python unpickler would run code or touch the system: any global of
     * theirs is refused rather than kept inert (none appears in a state dict or a training
     * checkpoint).
     */
    private static final Set<String> CODE_MODULES = Set.of("os", "posix", "nt", "subprocess", "sys", "shutil",
            "socket", "importlib", "runpy", "pty", "ctypes", "pickle", "_pickle", "marshal", "webbrowser", "commands",
            "platform", "types", "operator", "functools", "io", "_io", "code", "codeop", "inspect", "multiprocessing",
            "asyncio", "threading", "signal", "tempfile", "pathlib", "glob", "zipimport", "pkgutil", "site");
    /**
     * Builtins that run code or reach the system; other builtins ({@code set}, {@code frozenset},
     * {@code bytearray}, {@code slice}: how protocol 2 pickles them) stay inert values.
     */
    private static final Set<String> CODE_BUILTINS = Set.of("eval", "exec", "compile", "open", "__import__",
            "getattr", "setattr", "delattr", "globals", "locals", "vars", "input", "breakpoint", "exit", "quit", "apply",
            "execfile", "file", "reload", "help", "memoryview", "__build_class__");
    /** Names refused in any module. */
    private static final Set<String> CODE_NAMES = Set.of("eval", "exec", "system", "popen", "__import__", "getattr",
            "compile", "spawn", "execv", "execve", "load", "loads");

    /** Storage classes by name: (dtype, bytes per element); dtype null where no DJL type matches. */
    private static final Map<String, Object[]> STORAGES = Map.ofEntries(
            Map.entry("FloatStorage", new Object[] {DataType.FLOAT32, 4}),
            Map.entry("HalfStorage", new Object[] {DataType.FLOAT16, 2}),
            Map.entry("BFloat16Storage", new Object[] {DataType.BFLOAT16, 2}),
            Map.entry("DoubleStorage", new Object[] {DataType.FLOAT64, 8}),
            Map.entry("LongStorage", new Object[] {DataType.INT64, 8}),
            Map.entry("IntStorage", new Object[] {DataType.INT32, 4}),
            Map.entry("ShortStorage", new Object[] {DataType.INT16, 2}),
            Map.entry("CharStorage", new Object[] {DataType.INT8, 1}),
            Map.entry("ByteStorage", new Object[] {DataType.UINT8, 1}),
            Map.entry("BoolStorage", new Object[] {DataType.BOOLEAN, 1}),
            Map.entry("ComplexFloatStorage", new Object[] {null, 8}),
            Map.entry("ComplexDoubleStorage", new Object[] {null, 16}),
            Map.entry("QInt8Storage", new Object[] {null, 1}),
            Map.entry("QUInt8Storage", new Object[] {null, 1}),
            Map.entry("QInt32Storage", new Object[] {null, 4}),
            Map.entry("UntypedStorage", new Object[] {DataType.UINT8, 1}));

    /** Tensors of more dimensions than this are refused (torch allows 64). */
    private static final int MAX_DIMS = 64;

    private TorchPickle() {}

    /**
     * Unpickles {@code pickle}; {@code storageBytes} gives each storage key's real size (its zip
     * entry), so that no declared size can exceed what the archive holds.
     */
    static Object load(byte[] pickle, Map<String, Long> storageBytes, String source) throws IOException {
        Reader r = new Reader(pickle, storageBytes, source);
        try {
            return r.loads(pickle);
        } catch (IOException | RuntimeException | StackOverflowError e) { // PickleException is a RuntimeException
            for (Throwable c = e; c != null; c = c.getCause()) {
                if (c instanceof CorruptFileException corrupt) {
                    throw corrupt;
                }
            }
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new CorruptFileException(source + ": data.pkl is not a valid torch.save pickle (" + why.lines()
                    .findFirst().orElse("") + ")");
        } finally {
            r.close();
        }
    }

    /** Pyrolite's unpickler with every global-naming opcode and every length taken over. */
    private static final class Reader extends Unpickler {
        private final Positioned in;
        private final Map<String, Long> storageBytes;
        private final String source;
        private final Map<String, Storage> storages = new HashMap<>();

        Reader(byte[] pickle, Map<String, Long> storageBytes, String source) {
            this.in = new Positioned(pickle);
            this.storageBytes = storageBytes;
            this.source = source;
        }

        @Override
        public Object loads(byte[] pickle) throws IOException {
            return load(in);
        }

        @Override
        protected Object dispatch(short key) throws IOException {
            switch (key) {
                case 'c' -> { // GLOBAL module\nname\n
                    stack.add(global(line(), line()));
                    return NO_RETURN_VALUE;
                }
                case 0x93 -> { // STACK_GLOBAL
                    Object name = stack.pop();
                    Object module = stack.pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw refuse("STACK_GLOBAL needs two strings");
                    }
                    stack.add(global(m, n));
                    return NO_RETURN_VALUE;
                }
                case 'R' -> { // REDUCE
                    Object args = stack.pop();
                    stack.add(call(stack.pop(), args));
                    return NO_RETURN_VALUE;
                }
                case 0x81 -> { // NEWOBJ
                    Object args = stack.pop();
                    stack.add(call(stack.pop(), args));
                    return NO_RETURN_VALUE;
                }
                case 0x92 -> { // NEWOBJ_EX
                    stack.pop(); // kwargs
                    Object args = stack.pop();
                    stack.add(call(stack.pop(), args));
                    return NO_RETURN_VALUE;
                }
                case 'b' -> { // BUILD: an inert value keeps its state; an OrderedDict's (a state
                    // dict's _metadata) and a tensor's are dropped, as they do not change values
                    Object state = stack.pop();
                    Object target = stack.pop();
                    if (target instanceof Opaque o) {
                        stack.add(new Opaque(o.global(), o.args(), new Object[] {state}));
                    } else if (target instanceof LinkedHashMap<?, ?> || target instanceof TensorRef) {
                        stack.add(target);
                    } else {
                        throw refuse("BUILD on a " + kind(target));
                    }
                    return NO_RETURN_VALUE;
                }
                case 'i', 'o' -> throw refuse("the INST/OBJ opcodes (old-style class instances) are not torch.save's");
                case 0x82, 0x83, 0x84 -> throw refuse("extension-registry opcodes (EXT1/2/4) are not torch.save's");
                case 'u' -> { // SETITEMS, keeping the order (Pyrolite collects them into a HashMap first)
                    List<Object> items = stack.pop_all_since_marker();
                    Object target = stack.peek();
                    if (!(target instanceof Map<?, ?>) || items.size() % 2 != 0) {
                        throw refuse("SETITEMS on a " + kind(target));
                    }
                    @SuppressWarnings("unchecked")
                    Map<Object, Object> map = (Map<Object, Object>) target;
                    for (int i = 0; i < items.size(); i += 2) {
                        map.put(items.get(i), items.get(i + 1));
                    }
                    return NO_RETURN_VALUE;
                }
                case 'T', 'X', 'B' -> checkLength(4, key);
                case 0x8d, 0x8e, 0x96, 0x95 -> checkLength(8, key);
                case 0x8b -> checkLength(4, key); // LONG4
                default -> { }
            }
            return super.dispatch(key);
        }

        /** A length-prefixed opcode may not declare more bytes than the pickle has left. */
        private void checkLength(int width, short op) throws IOException {
            long n = in.peekLength(width);
            if (n < 0 || n > in.remaining() - width) {
                throw refuse(String.format("opcode 0x%02x at byte %d declares %d bytes, %d remain", op, in.position() - 1,
                        n, in.remaining() - width));
            }
        }

        private String line() throws IOException {
            StringBuilder sb = new StringBuilder();
            int c;
            while ((c = in.read()) != '\n') {
                if (c < 0 || sb.length() > 1000) {
                    throw refuse("an unterminated GLOBAL name");
                }
                sb.append((char) c);
            }
            return sb.toString();
        }

        private Global global(String module, String name) throws CorruptFileException {
            String root = module.contains(".") ? module.substring(0, module.indexOf('.')) : module;
            boolean builtin = root.equals("builtins") || root.equals("__builtin__");
            if (CODE_MODULES.contains(root) || (builtin && CODE_BUILTINS.contains(name))
                    || (!module.startsWith("torch") && CODE_NAMES.contains(name))) {
                throw new CorruptFileException(source + ": refused: its pickle names " + module + "." + name
                        + ", which would run code if loaded in Python; not loading it");
            }
            return new Global(module, name);
        }

        private Object call(Object callable, Object args) throws IOException {
            if (!(callable instanceof Global g)) {
                throw refuse("a call of a " + kind(callable));
            }
            Object[] a = args instanceof Object[] t ? t : null;
            if (a == null) {
                throw refuse("call arguments of " + g.qualified() + " are a " + kind(args) + ", not a tuple");
            }
            return switch (g.qualified()) {
                case "collections.OrderedDict" -> {
                    if (a.length != 0) {
                        throw refuse("collections.OrderedDict with arguments");
                    }
                    yield new LinkedHashMap<Object, Object>();
                }
                case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor" -> tensor(a);
                case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
                    if (a.length < 1 || !(a[0] instanceof TensorRef)) {
                        throw refuse(g.qualified() + " without a tensor");
                    }
                    yield a[0];
                }
                case "torch._tensor._rebuild_from_type_v2" -> {
                    // (func, new_type, args, state): a tensor subclass; keep the tensor func builds
                    if (a.length != 4 || !(a[2] instanceof Object[])) {
                        throw refuse("torch._tensor._rebuild_from_type_v2 with " + a.length + " arguments");
                    }
                    yield call(a[0], a[2]);
                }
                default -> new Opaque(g.qualified(), a, null);
            };
        }

        private TensorRef tensor(Object[] a) throws IOException {
            if (a.length < 4 || !(a[0] instanceof Storage s)) {
                throw refuse("_rebuild_tensor_v2 without a storage");
            }
            long offset = integer(a[1], "storage offset");
            long[] shape = longs(a[2], "size");
            long[] stride = longs(a[3], "stride");
            if (shape.length != stride.length || shape.length > MAX_DIMS) {
                throw refuse("a tensor with " + shape.length + " sizes and " + stride.length + " strides");
            }
            long numel = 1;
            long last = offset;
            for (int i = 0; i < shape.length; i++) {
                numel = Math.multiplyExact(numel, shape[i]);
                if (shape[i] > 0) {
                    last = Math.addExact(last, Math.multiplyExact(shape[i] - 1, stride[i]));
                }
            }
            String what = "tensor " + Arrays.toString(shape) + " (stride " + Arrays.toString(stride) + ", offset "
                    + offset + ") on storage " + s.key() + " of " + s.numel() + " elements";
            if (numel > 0 && last >= s.numel()) {
                throw new CorruptFileException(source + ": " + what + " reads past its storage");
            }
            if (numel > s.numel()) {
                throw new CorruptFileException(source + ": " + what + " has more elements than its storage"
                        + " (a broadcast view: save it with .contiguous())");
            }
            return new TensorRef(s, offset, shape, stride);
        }

        @Override
        protected Object persistentLoad(Object pid) {
            try {
                return storage(pid);
            } catch (CorruptFileException e) {
                throw new PickleException(e.getMessage(), e);
            }
        }

        private Storage storage(Object pid) throws CorruptFileException {
            if (!(pid instanceof Object[] t) || t.length != 5 || !"storage".equals(t[0])) {
                throw refuse("a persistent id that is not ('storage', type, key, location, size)");
            }
            if (!(t[1] instanceof Global g) || !g.module().equals("torch") || !STORAGES.containsKey(g.name())) {
                throw new CorruptFileException(source + ": unknown storage type " + (t[1] instanceof Global g
                        ? g.qualified() : kind(t[1])) + " (known: torch." + String.join(", torch.",
                        new java.util.TreeSet<>(STORAGES.keySet())) + ")");
            }
            if (!(t[2] instanceof String key)) {
                throw refuse("a storage key that is not a string");
            }
            long numel = integer(t[4], "storage size");
            Object[] type = STORAGES.get(g.name());
            int bytes = (Integer) type[1];
            Long real = storageBytes.get(key);
            if (real == null) {
                throw new CorruptFileException(source + ": storage " + key + " (data/" + key + ") is missing from the"
                        + " archive");
            }
            if (numel > real / bytes || numel * bytes != real) {
                throw new CorruptFileException(source + ": storage " + key + " declares " + numel + " elements of "
                        + g.name() + " (" + bytes + " bytes each) but data/" + key + " holds " + real + " bytes");
            }
            Storage s = new Storage(key, g.name(), (DataType) type[0], bytes, numel);
            Storage seen = storages.putIfAbsent(key, s);
            if (seen != null && !seen.equals(s)) {
                throw new CorruptFileException(source + ": storage " + key + " is declared twice, as " + seen.type()
                        + " and as " + s.type());
            }
            return seen != null ? seen : s;
        }

        private long integer(Object v, String what) throws CorruptFileException {
            if (v instanceof Integer || v instanceof Long) {
                long n = ((Number) v).longValue();
                if (n >= 0) {
                    return n;
                }
            }
            throw refuse("a " + what + " of " + (v instanceof Number ? v : kind(v)));
        }

        private long[] longs(Object v, String what) throws CorruptFileException {
            if (!(v instanceof Object[] t)) {
                throw refuse("a tensor " + what + " that is a " + kind(v) + ", not a tuple");
            }
            long[] out = new long[t.length];
            for (int i = 0; i < t.length; i++) {
                out[i] = integer(t[i], "tensor " + what);
            }
            return out;
        }

        private CorruptFileException refuse(String what) {
            return new CorruptFileException(source + ": data.pkl is not a torch.save pickle: " + what);
        }
    }

    static String kind(Object v) {
        if (v == null) {
            return "None";
        }
        if (v instanceof Object[]) {
            return "tuple";
        }
        if (v instanceof Opaque o) {
            return o.global();
        }
        if (v instanceof TensorRef) {
            return "tensor";
        }
        return v.getClass().getSimpleName();
    }

    /** The pickle's bytes, with the position exposed so that lengths can be checked before Pyrolite allocates. */
    private static final class Positioned extends ByteArrayInputStream {
        Positioned(byte[] b) {
            super(b);
        }

        int position() {
            return pos;
        }

        int remaining() {
            return count - pos;
        }

        long peekLength(int width) {
            if (remaining() < width) {
                return -1;
            }
            long n = 0;
            for (int i = width - 1; i >= 0; i--) {
                n = (n << 8) | (buf[pos + i] & 0xff);
            }
            return width == 4 ? (int) n : n;
        }
    }

    static List<Object> asList(Object v) {
        if (v instanceof Object[] t) {
            return Arrays.asList(t);
        }
        if (v instanceof List<?> l) {
            return new ArrayList<>(l);
        }
        return null;
    }
}
