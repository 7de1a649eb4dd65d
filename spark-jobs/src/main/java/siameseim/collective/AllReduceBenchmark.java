package siameseim.collective;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * All-reduce between separate JVM processes on loopback: {@link #run} starts one child JVM per
 * rank (this class's {@code main}), each all-reduces float buffers of the given sizes, and rank 0
 * reports the median time and the bus bandwidth, size x 2 (N - 1) / N / time (the convention of
 * NCCL and Gloo benchmarks).
 */
public final class AllReduceBenchmark {
    private AllReduceBenchmark() {}

    /** Bytes the pre-flight all-reduces before it times (see {@link #preflight}). */
    static final long PREFLIGHT_WARMUP_BYTES = 64L << 20;

    /** A pre-flight measurement: the median of 5 all-reduces of {@code bytes}, and the bus bandwidth. */
    public record Preflight(long bytes, double seconds, double busGiBps, int ranks) {}

    /**
     * The pre-flight of a training run: all-reduces a buffer of the gradient's size (every rank
     * calls it) and measures the bus bandwidth. The timed calls come after warm-up calls that
     * together reduce at least {@value #PREFLIGHT_WARMUP_BYTES} bytes (at least 3, at most 30; the
     * same count on every rank, from the size): the summing loops must be compiled first.
     */
    public static Preflight preflight(Collective c, long bytes) {
        ByteBuffer b = ByteBuffer.allocateDirect(Math.toIntExact(bytes)).order(ByteOrder.nativeOrder());
        long warmup = Math.max(3, Math.min(30, PREFLIGHT_WARMUP_BYTES / Math.max(1, bytes)));
        for (long i = 0; i < warmup; i++) {
            c.allReduceSum(b);
        }
        double[] t = new double[5];
        for (int i = 0; i < t.length; i++) {
            long s = System.nanoTime();
            c.allReduceSum(b);
            t[i] = (System.nanoTime() - s) / 1e9;
        }
        Arrays.sort(t);
        double sec = t[t.length / 2];
        int n = c.size();
        return new Preflight(bytes, sec, busBandwidth(bytes, n, sec), n);
    }

    /**
     * The timed calls for a buffer of {@code mib} MiB: at least {@code repeats}, and more for small
     * buffers, whose single calls take a millisecond and vary with the scheduler (rounded up to odd; 1 MiB:
     * 101, 4 MiB: 33; docs/bench/gloo_allreduce.py times Gloo as many times).
     */
    static int timedCalls(int mib, int repeats) {
        return Math.max(repeats, Math.min(101, 128 / Math.max(1, mib)) | 1);
    }

    /** Bus bandwidth in GiB/s: size x 2 (N - 1) / N / time. */
    static double busBandwidth(long bytes, int ranks, double seconds) {
        return bytes * 2.0 * (ranks - 1) / ranks / seconds / (1L << 30);
    }

    /** Child process: rank, ports (comma separated), secret hex, sizes in MiB (comma separated), repeats. */
    public static void main(String[] args) throws Exception {
        int rank = Integer.parseInt(args[0]);
        String[] ports = args[1].split(",");
        byte[] secret = HexFormat.of().parseHex(args[2]);
        int[] sizes = Arrays.stream(args[3].split(",")).mapToInt(Integer::parseInt).toArray();
        int repeats = Integer.parseInt(args[4]);
        List<Peer> peers = new ArrayList<>();
        for (int r = 0; r < ports.length; r++) {
            peers.add(new Peer(r, "127.0.0.1", Integer.parseInt(ports[r])));
        }
        ServerSocketChannel listener = ServerSocketChannel.open();
        listener.bind(new java.net.InetSocketAddress("127.0.0.1", peers.get(rank).port()), 64);
        try (Collective c = new Collective(TcpLink.connect(listener, rank, peers, secret, 60_000,
                s -> System.err.println(s)))) {
            int n = peers.size();
            // a first large exchange lets TCP grow its windows, as in the first steps of training
            ByteBuffer warm = ByteBuffer.allocateDirect(64 << 20).order(ByteOrder.nativeOrder());
            for (int w = 0; w < 3; w++) {
                c.allReduceSum(warm);
            }
            for (int mib : sizes) {
                int floats = mib * (1 << 18);
                ByteBuffer b = ByteBuffer.allocateDirect(floats * 4).order(ByteOrder.nativeOrder());
                for (int i = 0; i < floats; i += 1024) {
                    b.putFloat(i * 4, rank + 1);
                }
                c.barrier();
                int timed = timedCalls(mib, repeats);
                for (int w = 0; w < Math.max(3, timed / 4); w++) {
                    c.allReduceSum(b); // warm-up (JIT, vector code)
                }
                double[] t = new double[timed];
                for (int k = 0; k < timed; k++) {
                    c.barrier();
                    long s = System.nanoTime();
                    c.allReduceSum(b);
                    t[k] = (System.nanoTime() - s) / 1e9;
                }
                Arrays.sort(t);
                double median = t[timed / 2];
                double bus = busBandwidth(floats * 4L, n, median);
                if (rank == 0) {
                    System.out.printf(Locale.ROOT, "RESULT %d %s %.6f %.3f%n", mib,
                            floats * 4 <= Collective.SMALL_BYTES ? "direct" : c.usesSharedMemory() ? "shared-memory"
                                    : "tcp-ring", median, bus);
                }
            }
        }
    }

    /** One measured size. */
    public record Result(int mib, String algorithm, double seconds, double busGiBps) {
        public String line() {
            return String.format(Locale.ROOT, "all-reduce %4d MiB (%s, 2 processes): %8.2f ms, bus bandwidth %.2f GiB/s",
                    mib, algorithm, seconds * 1000, busGiBps);
        }
    }

    /**
     * Runs {@code ranks} child JVMs with this JVM's classpath; returns rank 0's results. With
     * {@code sharedMemory} false the large buffers take the TCP ring, as between hosts.
     */
    public static List<Result> run(int ranks, int[] sizesMib, int repeats, boolean sharedMemory) throws Exception {
        StringBuilder ports = new StringBuilder();
        for (int r = 0; r < ranks; r++) {
            try (ServerSocket s = new ServerSocket(0)) {
                ports.append(r == 0 ? "" : ",").append(s.getLocalPort());
            }
        }
        String secret = HexFormat.of().formatHex(Handshake.newSecret());
        String sizes = String.join(",", Arrays.stream(sizesMib).mapToObj(Integer::toString).toList());
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        List<Process> procs = new ArrayList<>();
        for (int r = 0; r < ranks; r++) {
            procs.add(new ProcessBuilder(java, "-Xmx2g", "--add-modules=jdk.incubator.vector",
                    "-Dsiameseim.collective.shm=" + sharedMemory, "-cp", System.getProperty("java.class.path"),
                    AllReduceBenchmark.class.getName(), Integer.toString(r), ports.toString(), secret, sizes,
                    Integer.toString(repeats)).redirectErrorStream(r != 0).start());
        }
        List<Result> out = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(procs.get(0).getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("RESULT ")) {
                    String[] p = line.split(" ");
                    out.add(new Result(Integer.parseInt(p[1]), p[2], Double.parseDouble(p[3]), Double.parseDouble(p[4])));
                }
            }
        }
        for (Process p : procs) {
            if (p.waitFor() != 0) {
                throw new IllegalStateException("an all-reduce benchmark process failed (exit " + p.exitValue() + ")");
            }
        }
        return out;
    }
}
