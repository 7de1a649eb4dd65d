package siameseim.model.nn;

import ai.djl.util.Utils;
import com.sun.jna.NativeLibrary;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.Properties;

/**
 * Lets DJL see the GPUs of a node that has the NVIDIA driver but no CUDA toolkit, with the CUDA
 * natives jar ({@code -Pcuda}: pytorch-native-cu124) on the classpath.
 *
 * <p>Why this exists: DJL chooses between the CPU and the CUDA natives on the classpath by asking
 * libcudart, loaded through JNA as {@code Native.load("cudart")}, how many GPUs there are and
 * which CUDA version it is (ai.djl.util.Platform, ai.djl.util.cuda.CudaUtils). GPU nodes usually
 * have only the driver's libcuda.so.1 (what Kubernetes' NVIDIA device plugin and YARN's GPU
 * isolation mount), so JNA finds no libcudart, DJL counts no GPU and takes the CPU natives
 * (without them it tries to download natives and fails offline). The natives jar carries the CUDA
 * runtime libtorch was built against ({@code libcudart-<hash>.so.12}); copied once into DJL's
 * cache as {@code libcudart.so} and named as JNA's first place to look for "cudart", it is what
 * DJL's probe loads, and the version it reports is the one the natives need.
 *
 * <p>Nothing happens without CUDA natives on the classpath, with {@code PYTORCH_LIBRARY_PATH}
 * naming a hand-installed libtorch, or without an NVIDIA driver (the Spark driver, CPU nodes):
 * there DJL takes the CPU natives the GPU build also carries.
 */
public final class BundledCuda {
    static final String PROPERTIES = "native/lib/pytorch.properties";

    private BundledCuda() {}

    /** What the classpath's CUDA natives jar says of itself. */
    public record Natives(String version, String flavor, String classifier, String cudart) {
        /** The jar entry of the CUDA runtime. */
        String entry() {
            return "pytorch/" + flavor + '/' + classifier + '/' + cudart;
        }
    }

    /** Must run before DJL's first Engine call (it caches its probe for the process). */
    static void prepare() {
        if (Utils.getEnvOrSystemProperty("PYTORCH_LIBRARY_PATH") != null) {
            return;
        }
        Natives n = find(Thread.currentThread().getContextClassLoader());
        if (n == null || !driverPresent()) {
            return;
        }
        Path dir = Utils.getEngineCacheDir("pytorch").resolve(n.version() + '-' + n.flavor() + '-' + n.classifier()
                + "-cudart");
        extract(Thread.currentThread().getContextClassLoader(), n, dir);
        NativeLibrary.addSearchPath("cudart", dir.toString());
    }

    /** The CUDA natives on this class loader's classpath, or null where there are none. */
    public static Natives find(ClassLoader loader) {
        try {
            Enumeration<URL> urls = loader.getResources(PROPERTIES);
            while (urls.hasMoreElements()) {
                URL url = urls.nextElement();
                Properties p = new Properties();
                try (InputStream in = url.openStream()) {
                    p.load(in);
                }
                String flavor = p.getProperty("flavor", "");
                if (!flavor.startsWith("cu")) {
                    continue;
                }
                for (String lib : p.getProperty("libraries", "").split(",")) {
                    if (lib.startsWith("libcudart")) {
                        return new Natives(p.getProperty("version"), flavor, p.getProperty("classifier"), lib.trim());
                    }
                }
                throw new IllegalStateException(url + " lists no libcudart in its libraries; the CUDA natives jar"
                        + " is not one DJL publishes");
            }
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + PROPERTIES + " from the classpath", e);
        }
    }

    /** Copies the runtime to dir/libcudart.so once (a temporary file moved into place: executors share a node). */
    static Path extract(ClassLoader loader, Natives n, Path dir) {
        Path target = dir.resolve("libcudart.so");
        if (Files.isRegularFile(target)) {
            return target;
        }
        try (InputStream in = loader.getResourceAsStream(n.entry())) {
            if (in == null) {
                throw new IllegalStateException("the CUDA natives jar lists " + n.cudart() + " but has no " + n.entry());
            }
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "libcudart", ".tmp");
            try {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("copying the CUDA runtime " + n.entry() + " to " + dir, e);
        }
    }

    /** Whether the NVIDIA driver library loads (through the system's linker search, as libcudart looks for it). */
    static boolean driverPresent() {
        try {
            NativeLibrary.getInstance("libcuda.so.1");
            return true;
        } catch (UnsatisfiedLinkError e) {
            return false;
        }
    }
}
