package siameseim.model.nn;

import ai.djl.Device;
import ai.djl.pytorch.jni.LibUtils;
import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import java.io.File;

/**
 * libtorch's autocast (torch.autocast), which DJL has no call for: while it is on in a thread,
 * the matrix products and convolutions that thread runs on {@code device} compute in fp16 and
 * return FLOAT16, the ops libtorch keeps in fp32 (norms, softmax, reductions, losses) widen their
 * inputs, and autograd records the casts, so parameter gradients stay fp32. The switches are
 * thread-local, so every thread that runs a forward pass turns it on for itself
 * ({@link #on}); the fp16 copies of weights it caches live until {@link #clearCache}.
 *
 * <p>Called through JNA on the libtorch_cpu library DJL loaded (the autocast state lives there
 * for every device type). The C++ functions take {@code c10::DeviceType} and
 * {@code c10::ScalarType}, both {@code int8_t} enums: CPU 0, CUDA 1; Half 5.
 */
public final class Autocast {
    private static final byte CPU = 0;
    private static final byte CUDA = 1;
    private static final byte HALF = 5;
    private static volatile Functions functions;

    private Autocast() {}

    private record Functions(Function setEnabled, Function isEnabled, Function setDtype, Function clearCache) {}

    private static Functions functions() {
        Functions f = functions;
        if (f == null) {
            synchronized (Autocast.class) {
                if (functions == null) {
                    if (!Torch.isLoaded()) {
                        Torch.init(); // (it turns grad mode off in this thread: never from inside a recording)
                    }
                    NativeLibrary lib = NativeLibrary.getInstance(new File(LibUtils.getLibtorchPath(),
                            "libtorch_cpu.so").getPath());
                    functions = new Functions(
                            lib.getFunction("_ZN2at8autocast20set_autocast_enabledEN3c1010DeviceTypeEb"),
                            lib.getFunction("_ZN2at8autocast19is_autocast_enabledEN3c1010DeviceTypeE"),
                            lib.getFunction("_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE"),
                            lib.getFunction("_ZN2at8autocast11clear_cacheEv"));
                }
                f = functions;
            }
        }
        return f;
    }

    private static byte type(Device device) {
        return device != null && device.isGpu() ? CUDA : CPU;
    }

    /** Finds libtorch's autocast functions (the engine loaded); the first call of the others does it too. */
    public static void load() {
        functions();
    }

    /** Turns fp16 autocast for {@code device} (null: the CPU) on or off in the calling thread. */
    public static void set(Device device, boolean on) {
        Functions f = functions();
        byte t = type(device);
        if (on) {
            f.setDtype().invokeVoid(new Object[] {t, HALF});
        }
        f.setEnabled().invokeVoid(new Object[] {t, (byte) (on ? 1 : 0)}); // a C++ bool: 0 or 1 (JNA passes a Java boolean as an int of -1)
    }

    /** Whether autocast for {@code device} is on in the calling thread. */
    public static boolean isOn(Device device) {
        return (functions().isEnabled().invokeInt(new Object[] {type(device)}) & 0xff) != 0;
    }

    /**
     * Runs {@code pass} with autocast off for {@code device} in this thread when it is on there,
     * and turns it back on after: the official code's {@code autocast(enabled=False)} regions (the
     * UniGrad loss, the BatchNorm of the decoder), which it computes in fp32. Costs nothing in a
     * process that never turned autocast on.
     */
    public static <T> T off(Device device, java.util.function.Supplier<T> pass) {
        if (functions == null || !isOn(device)) {
            return pass.get();
        }
        set(device, false);
        try {
            return pass.get();
        } finally {
            set(device, true);
        }
    }

    /**
     * {@code x} as FLOAT32 in the autograd graph ({@code x.float()}): DJL's casts run without
     * autograd and would cut the graph, so an fp16 tensor is added to a one-element fp32 zero,
     * which type promotion widens. Any other tensor is returned as it is.
     */
    public static ai.djl.ndarray.NDArray toFloat32(ai.djl.ndarray.NDArray x) {
        if (x.getDataType() != ai.djl.ndarray.types.DataType.FLOAT16) {
            return x;
        }
        try (ai.djl.ndarray.NDArray zero = x.getManager().zeros(new ai.djl.ndarray.types.Shape(1),
                ai.djl.ndarray.types.DataType.FLOAT32, x.getDevice())) {
            return x.add(zero); // add saves neither operand for its backward
        }
    }

    /** Drops the fp16 copies of weights autocast cached in this thread (stale after an update). */
    public static void clearCache() {
        functions().clearCache().invokeVoid(new Object[0]);
    }
}
