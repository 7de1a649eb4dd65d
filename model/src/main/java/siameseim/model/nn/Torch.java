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

    /** Seeds torch's generator (dropout/drop-path masks drawn on the device). */
    public static void seed(long seed) {
        JniUtils.setSeed(seed);
    }
}
