package siameseim.testing;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;

/**
 * An S3 endpoint for tests: s3proxy (filesystem backend) as a child process on 127.0.0.1, and
 * the S3A settings that point Hadoop at it. Buckets are folders of its base directory.
 */
public final class S3Proxy implements AutoCloseable {
    public static final String ACCESS_KEY = "test-access";
    public static final String SECRET_KEY = "test-secret-do-not-log";
    private final Process process;
    private final int port;
    private final String[] buckets;
    private Configuration configured;

    public S3Proxy(Path baseDir, String... buckets) throws IOException, InterruptedException {
        String jar = System.getProperty("s3proxy.jar");
        if (jar == null || !new File(jar).isFile()) {
            throw new IllegalStateException("s3proxy.jar system property not set or missing: " + jar
                    + " (maven-dependency-plugin copies it in process-test-resources)");
        }
        this.buckets = buckets.clone();
        for (String b : buckets) {
            Files.createDirectories(baseDir.resolve(b));
        }
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path props = baseDir.resolve("s3proxy.properties");
        Files.writeString(props, String.join("\n", List.of(
                "s3proxy.endpoint=http://127.0.0.1:" + port,
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + ACCESS_KEY,
                "s3proxy.credential=" + SECRET_KEY,
                "jclouds.provider=filesystem",
                "jclouds.filesystem.basedir=" + baseDir.toAbsolutePath())) + "\n");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        process = new ProcessBuilder(java, "-Xmx256m", "-jar", jar, "--properties", props.toString())
                .redirectErrorStream(true)
                .redirectOutput(baseDir.resolve("s3proxy.log").toFile())
                .start();
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                break;
            } catch (IOException e) {
                if (!process.isAlive() || System.currentTimeMillis() > deadline) {
                    close();
                    throw new IOException("s3proxy did not start; see " + baseDir.resolve("s3proxy.log"));
                }
                Thread.sleep(100);
            }
        }
    }

    public int port() {
        return port;
    }

    /** The S3A settings for this endpoint. */
    public void configure(Configuration c) {
        configured = c;
        c.set("fs.s3a.endpoint", "http://127.0.0.1:" + port);
        c.set("fs.s3a.path.style.access", "true");
        c.set("fs.s3a.connection.ssl.enabled", "false");
        c.set("fs.s3a.access.key", ACCESS_KEY);
        c.set("fs.s3a.secret.key", SECRET_KEY);
        c.set("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        c.set("fs.s3a.endpoint.region", "us-east-1");
        c.set("fs.s3a.attempts.maximum", "2");
        c.set("fs.s3a.retry.limit", "2");
    }

    /** Stops the endpoint process only (clients keep their connections' settings): a storage outage. */
    public void stop() {
        process.destroy();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops the endpoint and drops Hadoop's cached S3A file systems of its buckets (the cache is
     * keyed by bucket, not endpoint: a later endpoint with the same bucket names would otherwise
     * get a client of this one).
     */
    @Override
    public void close() {
        if (configured != null) {
            for (String b : buckets) {
                try {
                    org.apache.hadoop.fs.FileSystem.get(java.net.URI.create("s3a://" + b + "/"), configured).close();
                } catch (IOException e) {
                    // closing a client of a stopped endpoint
                }
            }
        }
        process.destroy();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
