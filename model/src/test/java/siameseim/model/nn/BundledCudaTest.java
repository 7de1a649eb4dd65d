package siameseim.model.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CUDA runtime found in and copied out of a natives jar laid out as DJL publishes them. */
class BundledCudaTest {
    @TempDir
    Path tmp;

    private static final byte[] RUNTIME = "not really an ELF file".getBytes(StandardCharsets.UTF_8);

    private URLClassLoader jar(String name, Map<String, byte[]> entries) throws IOException {
        Path jar = tmp.resolve(name);
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                out.putNextEntry(new JarEntry(e.getKey()));
                out.write(e.getValue());
                out.closeEntry();
            }
        }
        return new URLClassLoader(new URL[] {jar.toUri().toURL()}, null);
    }

    private static byte[] props(String flavor, String libraries) {
        return ("version=2.5.1-20241113\nflavor=" + flavor + "\nclassifier=linux-x86_64\nlibraries=" + libraries + "\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void findsTheRuntimeOfTheCudaNativesAndCopiesItOnce() throws IOException {
        try (URLClassLoader loader = jar("cu.jar", Map.of(
                BundledCuda.PROPERTIES, props("cu124", "libc10.so,libcudart-8774224f.so.12,libtorch.so"),
                "pytorch/cu124/linux-x86_64/libcudart-8774224f.so.12", RUNTIME))) {
            BundledCuda.Natives n = BundledCuda.find(loader);
            assertEquals(new BundledCuda.Natives("2.5.1-20241113", "cu124", "linux-x86_64", "libcudart-8774224f.so.12"), n);
            Path copied = BundledCuda.extract(loader, n, tmp.resolve("cache"));
            assertEquals("libcudart.so", copied.getFileName().toString());
            assertArrayEquals(RUNTIME, Files.readAllBytes(copied));
            try (OutputStream out = Files.newOutputStream(copied)) {
                out.write(1);
            }
            assertEquals(copied, BundledCuda.extract(loader, n, tmp.resolve("cache")));
            assertEquals(1, Files.size(copied), "a present copy is kept, not rewritten by every JVM of the node");
            try (var files = Files.list(tmp.resolve("cache"))) {
                assertEquals(1, files.count(), "no temporary file left behind");
            }
        }
    }

    @Test
    void cpuNativesAloneAreNotCuda() throws IOException {
        try (URLClassLoader loader = jar("cpu.jar", Map.of(BundledCuda.PROPERTIES, props("cpu", "libc10.so,libtorch.so")))) {
            assertNull(BundledCuda.find(loader));
        }
    }

    @Test
    void aCudaJarWithoutItsRuntimeIsNamed() throws IOException {
        try (URLClassLoader loader = jar("odd.jar", Map.of(BundledCuda.PROPERTIES, props("cu124", "libc10.so,libtorch.so")))) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> BundledCuda.find(loader));
            assertTrue(e.getMessage().contains("odd.jar") && e.getMessage().contains("libcudart"), e.getMessage());
        }
        try (URLClassLoader loader = jar("hollow.jar", Map.of(
                BundledCuda.PROPERTIES, props("cu124", "libcudart-1.so.12")))) {
            BundledCuda.Natives n = BundledCuda.find(loader);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> BundledCuda.extract(loader, n, tmp.resolve("c2")));
            assertTrue(e.getMessage().contains("pytorch/cu124/linux-x86_64/libcudart-1.so.12"), e.getMessage());
        }
    }
}
