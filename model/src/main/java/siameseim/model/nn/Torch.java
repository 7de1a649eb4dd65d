package siameseim.model.nn;

import siameseim.host.NativeMemory;
import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * The PyTorch engine, set up offline. Every entry point calls {@link #init} before touching DJL.
 *
 * <p>Why this exists: DJL probes the network (telemetry, EC2 metadata) unless offline mode is
 * set before the first {@code Engine} call; libtorch's grad mode is thread-local and DJL only
 * disables it on the thread that loaded the engine, so every training thread must call
 * {@link #disableGradOnThisThread()} (see docs/djl-notes.md).
 */
public final class Torch {
    private static volatile boolean loaded;

    private Torch() {}

    /** Loads the engine offline and sets the intra-op thread count (process-wide). */
    public static synchronized Engine init(int threads) {
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        if (System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
        NativeMemory.keepFreedMemory();
        if (!loaded) {
            BundledCuda.prepare();
        }
        Engine engine = Engine.getEngine("PyTorch");
        loaded = true;
        if (threads > 0 && JniUtils.getNumThreads() != threads) {
            JniUtils.setNumThreads(threads);
        }
        disableGradOnThisThread();
        return engine;
    }

    /** Loads the engine with the thread count it already has. */
    public static Engine init() {
        return init(0);
    }

    /** Outside a GradientCollector, ops on this thread record no graph (torch.no_grad). */
    public static void disableGradOnThisThread() {
        JniUtils.setGradMode(false);
    }

    public static boolean isLoaded() {
        return loaded;
    }

    /**
     * TF32 for fp32 matrix products on CUDA devices (torch.backends.cuda.matmul.allow_tf32), for
     * the whole process. DJL has no call for it; libtorch reads TORCH_ALLOW_TF32_CUBLAS_OVERRIDE
     * once, at its first cuBLAS matrix product (at::Context::allowTF32CuBLAS), so this sets the
     * variable in the process's own environment (libc setenv: Java cannot) and must run before
     * the first GPU step. The cuDNN convolutions (the patch embedding) use TF32 by default.
     */
    public static void allowTf32(boolean allow) {
        Libc.INSTANCE.setenv(TF32_VARIABLE, allow ? "1" : "0", 1);
    }

    /** The variable as this process's C library sees it (System.getenv is a copy taken at start-up). */
    static String tf32Setting() {
        return Libc.INSTANCE.getenv(TF32_VARIABLE);
    }

    static final String TF32_VARIABLE = "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE";

    private interface Libc extends com.sun.jna.Library {
        Libc INSTANCE = com.sun.jna.Native.load("c", Libc.class);

        int setenv(String name, String value, int overwrite);

        String getenv(String name);
    }

    /** Seeds torch's generator (dropout/drop-path masks drawn on the device). */
    public static void seed(long seed) {
        JniUtils.setSeed(seed);
    }
}
