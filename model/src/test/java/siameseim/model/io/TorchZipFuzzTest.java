package siameseim.model.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveInputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.checkpoint.Encoders;

/**
 * Mutants of a valid torch.save file (written by PyTorch: the released form, with views and
 * fp16 copies) through the path every {@code --weights} takes on the driver
 * ({@link Encoders#check}): entries missing or renamed, the pickle cut or altered, storages and
 * shapes that lie, huge shapes, unknown dtypes, and pickles whose {@code __reduce__} would run a
 * command. Each either loads or fails with an IOException naming the file, on its first line;
 * never an OutOfMemoryError, another exception type or a crash, and nothing runs.
 */
class TorchZipFuzzTest {
    private static final String[] SOURCES = {"release-pretrain", "views", "release-pretrain-fp16"};
    private static final int KINDS = 12;

    @Test
    void sixHundredMutantsLoadOrFailInOneLineNamingTheFile(@TempDir Path dir) throws Exception {
        Path marker = dir.resolve("pwned");
        SplittableRandom rng = new SplittableRandom(37);
        int mutants = 600;
        int refused = 0;
        Map<Integer, Integer> refusedByKind = new TreeMap<>();
        List<String> samples = new ArrayList<>();
        for (int m = 0; m < mutants; m++) {
            int kind = m % KINDS;
            Map<String, byte[]> entries = entries(Files.readAllBytes(Path.of(TorchZipTest.fixture(
                    SOURCES[(m / KINDS) % SOURCES.length] + ".pth"))));
            byte[] bytes = mutate(entries, kind, rng, marker);
            Path f = dir.resolve("mutant-" + m + "-kind-" + kind + ".pth");
            Files.write(f, bytes);
            try {
                Encoders.check(TorchZipTest.arch(), f.toString(), TorchZipTest.CONF);
            } catch (IOException e) {
                refused++;
                refusedByKind.merge(kind, 1, Integer::sum);
                String first = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
                assertTrue(first.contains(f.toString()), "mutant " + m + " (kind " + kind + "): " + e);
                if (samples.size() < 40 && m % 7 == 0) {
                    samples.add(first.replace(dir.toString() + "/", ""));
                }
            } catch (OutOfMemoryError e) {
                fail("mutant " + m + " (kind " + kind + ") ran out of memory", e);
            } catch (RuntimeException | StackOverflowError e) {
                fail("mutant " + m + " (kind " + kind + ") failed without a clear message: " + e, e);
            }
        }
        samples.forEach(System.out::println);
        System.out.println(refused + " of " + mutants + " refused; by kind " + refusedByKind);
        assertFalse(Files.exists(marker), "a pickle ran a command");
        assertTrue(refused > mutants / 2, refused + " of " + mutants + " refused");
        for (int k : new int[] {0, 2, 7, 8, 9}) { // missing data.pkl/storages, cut pickles, unknown dtypes, code
            assertEquals(mutants / KINDS, refusedByKind.get(k), "kind " + k + " is always refused");
        }
    }

    /** The archive's entries in order, read with Commons Compress. */
    static Map<String, byte[]> entries(byte[] zip) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (ZipArchiveInputStream in = new ZipArchiveInputStream(new ByteArrayInputStream(zip), "UTF-8", false, true)) {
            ZipArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                out.put(e.getName(), in.readAllBytes());
            }
        }
        return out;
    }

    static byte[] zip(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipArchiveOutputStream z = new ZipArchiveOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipArchiveEntry ze = new ZipArchiveEntry(e.getKey());
                ze.setMethod(ZipArchiveEntry.STORED);
                ze.setSize(e.getValue().length);
                java.util.zip.CRC32 crc = new java.util.zip.CRC32();
                crc.update(e.getValue());
                ze.setCrc(crc.getValue());
                z.putArchiveEntry(ze);
                z.write(e.getValue());
                z.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    private static String pkl(Map<String, byte[]> entries) {
        return entries.keySet().stream().filter(n -> n.endsWith("/data.pkl")).findFirst().orElseThrow();
    }

    private static byte[] mutate(Map<String, byte[]> entries, int kind, SplittableRandom rng, Path marker)
            throws IOException {
        String pkl = pkl(entries);
        String prefix = pkl.substring(0, pkl.indexOf('/') + 1);
        List<String> storages = entries.keySet().stream().filter(n -> n.startsWith(prefix + "data/")).toList();
        byte[] pickle = entries.get(pkl);
        switch (kind) {
            case 0 -> { // a missing entry: data.pkl or a storage
                entries.remove(rng.nextBoolean() ? pkl : storages.get(rng.nextInt(storages.size())));
            }
            case 1 -> { // a renamed entry
                List<String> names = new ArrayList<>(entries.keySet());
                String from = names.get(rng.nextInt(names.size()));
                byte[] v = entries.remove(from);
                entries.put(from.replace("data", rng.nextBoolean() ? "dat" : "data/x"), v);
            }
            case 2 -> // the pickle cut short (STOP is its last byte)
                entries.put(pkl, java.util.Arrays.copyOf(pickle, rng.nextInt(pickle.length - 1)));
            case 3 -> { // 1 to 8 pickle bytes altered
                byte[] p = pickle.clone();
                for (int i = 1 + rng.nextInt(8); i > 0; i--) {
                    p[2 + rng.nextInt(p.length - 2)] = (byte) rng.nextInt(256);
                }
                entries.put(pkl, p);
            }
            case 4 -> { // a storage that lies about its size: its bytes cut or grown
                String s = storages.get(rng.nextInt(storages.size()));
                byte[] v = entries.get(s);
                entries.put(s, java.util.Arrays.copyOf(v, rng.nextBoolean() ? rng.nextInt(Math.max(1, v.length))
                        : v.length + 1 + rng.nextInt(64)));
            }
            case 5 -> entries.put(pkl, replaceSmallInts(pickle, rng, false)); // shapes, strides, offsets that lie
            case 6 -> entries.put(pkl, replaceSmallInts(pickle, rng, true)); // huge declared shapes
            case 7 -> { // storages of unknown or unsupported dtypes
                String[] types = {"FooStorage", "ComplexFloatStorage", "QInt8Storage", "LongStorage"};
                entries.put(pkl, replaceAll(pickle, "\nFloatStorage\n", "\n" + types[rng.nextInt(types.length)]
                        + "\n", rng.nextBoolean()));
                if (!new String(entries.get(pkl), StandardCharsets.ISO_8859_1).contains("\nFloatStorage\n")
                        || rng.nextBoolean()) {
                    entries.put(pkl, replaceAll(entries.get(pkl), "\nHalfStorage\n", "\nFooStorage\n", true));
                }
            }
            case 8 -> entries.put(pkl, malicious(pickle, rng.nextInt(6), marker)); // __reduce__ that runs code
            case 9 -> entries.remove(pkl); // no data.pkl at all
            case 10 -> { // the file cut short: the zip directory (at its end) is lost
                byte[] z = zip(entries);
                return java.util.Arrays.copyOf(z, rng.nextInt(z.length));
            }
            default -> { // bytes of the zip structure altered (headers, directory)
                byte[] z = zip(entries);
                for (int i = 1 + rng.nextInt(6); i > 0; i--) {
                    int at = rng.nextBoolean() ? z.length - 1 - rng.nextInt(Math.min(z.length, 2000))
                            : rng.nextInt(z.length);
                    z[at] = (byte) rng.nextInt(256);
                }
                return z;
            }
        }
        return zip(entries);
    }

    /** Every BININT1 operand ({@code K n}: sizes, strides, offsets below 256) replaced, some of them. */
    private static byte[] replaceSmallInts(byte[] p, SplittableRandom rng, boolean huge) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(p, 0, 2);
        for (int i = 2; i < p.length; i++) {
            if (p[i] == 'K' && i + 1 < p.length && rng.nextInt(huge ? 6 : 12) == 0) {
                if (huge) { // BININT 2^31 - 1 - small
                    int v = Integer.MAX_VALUE - rng.nextInt(3);
                    out.write('J');
                    for (int b = 0; b < 4; b++) {
                        out.write((v >>> (8 * b)) & 0xff);
                    }
                } else {
                    out.write('K');
                    out.write(rng.nextInt(256));
                }
                i++;
                continue;
            }
            out.write(p[i]);
        }
        return out.toByteArray();
    }

    private static byte[] replaceAll(byte[] p, String from, String to, boolean all) {
        String s = new String(p, StandardCharsets.ISO_8859_1);
        s = all ? s.replace(from, to) : s.replaceFirst(java.util.regex.Pattern.quote(from), to);
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The pickle with a call that would run code in Python, right after PROTO. */
    private static byte[] malicious(byte[] p, int variant, Path marker) {
        String cmd = "touch " + marker;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(p, 0, 2);
        String[][] globals = {{"posix", "system"}, {"os", "system"}, {"builtins", "eval"},
            {"subprocess", "check_call"}, {"nt", "system"}, {"builtins", "exec"}};
        String[] g = globals[variant];
        byte[] c = cmd.getBytes(StandardCharsets.UTF_8);
        if (variant % 2 == 0) { // GLOBAL module\nname\n ( X cmd t R 0
            out.writeBytes(("c" + g[0] + "\n" + g[1] + "\n").getBytes(StandardCharsets.US_ASCII));
        } else { // the protocol-4 way: two strings and STACK_GLOBAL
            for (String part : g) {
                byte[] b = part.getBytes(StandardCharsets.US_ASCII);
                out.write('X');
                out.writeBytes(new byte[] {(byte) b.length, 0, 0, 0});
                out.writeBytes(b);
            }
            out.write(0x93);
        }
        out.write('(');
        out.write('X');
        out.writeBytes(new byte[] {(byte) c.length, 0, 0, 0});
        out.writeBytes(c);
        out.write('t');
        out.write('R');
        out.write('0'); // POP: the rest of the pickle is the state dict as before
        out.write(p, 2, p.length - 2);
        return out.toByteArray();
    }

    @Test
    void inertGlobalsStayInertAndTheFileLoads(@TempDir Path dir) throws Exception {
        // an argparse.Namespace and a numpy scalar in front of the state dict, as training checkpoints hold
        Map<String, byte[]> entries = entries(Files.readAllBytes(Path.of(TorchZipTest.fixture("release-pretrain.pth"))));
        String pkl = pkl(entries);
        byte[] p = entries.get(pkl);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(p, 0, 2);
        out.writeBytes("cargparse\nNamespace\n)\u0081}(X\u0001\u0000\u0000\u0000aK\u0001ub0".getBytes(
                StandardCharsets.ISO_8859_1));
        out.writeBytes("cnumpy.core.multiarray\nscalar\n(K\u0007tR0".getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes("cbuiltins\nset\n(]K\u0001atR0".getBytes(StandardCharsets.ISO_8859_1)); // protocol 2's set
        out.writeBytes("c_codecs\nencode\n(X\u0001\u0000\u0000\u0000aX\u0006\u0000\u0000\u0000latin1tR0"
                .getBytes(StandardCharsets.ISO_8859_1)); // protocol 2's bytes
        out.write(p, 2, p.length - 2);
        entries.put(pkl, out.toByteArray());
        Path f = dir.resolve("with-namespace.pth");
        Files.write(f, zip(entries));
        Encoders.check(TorchZipTest.arch(), f.toString(), TorchZipTest.CONF);
    }
}
