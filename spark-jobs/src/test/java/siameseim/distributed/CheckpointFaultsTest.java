package siameseim.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.checkpoint.CheckpointStore;
import siameseim.testing.LocalSpark;
import siameseim.testing.MiniHdfs;
import siameseim.testing.PretrainFixture;
import siameseim.testing.S3Proxy;

/**
 * Faults around checkpoints, injected between the checkpoint's bytes and its commit: a full
 * disk, a crash that left a partial file under the final name, and an S3 endpoint that goes
 * away. The previous checkpoint stays the one resumed, a partial one is never loaded, and the
 * resumed run ends where the uninterrupted one does.
 */
class CheckpointFaultsTest {
    static SparkSession spark;
    static String dataset;
    @TempDir
    static Path tmp;
    static Map<String, float[]> straight;

    @BeforeAll
    static void start() throws Exception {
        spark = LocalSpark.start();
        dataset = PretrainFixture.dataset(spark, tmp);
        straight = PretrainFixture.tensors(new Configuration(), run(tmp.resolve("straight").toString(), new ArrayList<>())
                .rank0().checkpoint());
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @AfterEach
    void noInjection() {
        ReplicaLoop.beforeCommit = CheckpointStore.NO_HOOK;
    }

    static DistributedTraining.Result run(String output, List<String> lines) throws Exception {
        return DistributedTraining.run(spark, PretrainFixture.config(dataset, output, "train.max-steps=6"), null,
                lines::add);
    }

    static void assertSameAsStraight(String checkpoint) throws Exception {
        Map<String, float[]> b = PretrainFixture.tensors(spark.sparkContext().hadoopConfiguration(), checkpoint);
        assertEquals(straight.keySet(), b.keySet());
        double worst = 0;
        for (String k : straight.keySet()) {
            for (int i = 0; i < straight.get(k).length; i++) {
                worst = Math.max(worst, Math.abs(straight.get(k)[i] - b.get(k)[i]));
            }
        }
        assertTrue(worst <= 1e-6, "max difference to the uninterrupted run " + worst);
    }

    static List<String> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".crc")).sorted().toList();
        }
    }

    /** Every file under {@code dir}: its bytes' CRC and its modification time. */
    static Map<String, String> snapshot(Path dir) throws IOException {
        Map<String, String> out = new java.util.TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
                crc.update(Files.readAllBytes(p));
                out.put(dir.relativize(p).toString(), Long.toHexString(crc.getValue()) + " "
                        + Files.getLastModifiedTime(p).toMillis());
            }
        }
        return out;
    }

    @Test
    void resumeSeedsOnlyARunWithoutCheckpointsAndAFinishedRunSubmittedAgainChangesNoFile() throws Exception {
        String seed = tmp.resolve("straight/checkpoints/ckpt-0000000003.safetensors").toString();
        String out = tmp.resolve("seeded").toString();
        List<String> lines = new ArrayList<>();
        DistributedTraining.Result r = DistributedTraining.run(spark, PretrainFixture.config(dataset, out,
                "train.max-steps=6"), seed, lines::add);
        String log = String.join("\n", lines);
        assertEquals(3, r.rank0().resumedFrom(), log);
        assertTrue(log.contains("resumed at step 3 from file:" + seed + " (" + "file:" + out
                + "/checkpoints holds no checkpoint yet: seeded from --resume file:" + seed + ")"), log);
        assertSameAsStraight(r.rank0().checkpoint()); // 3 steps of the straight run, then 3 more here
        Map<String, String> before = snapshot(Path.of(out));
        assertTrue(before.containsKey("checkpoints/ckpt-0000000006.safetensors"), before.toString());

        // the same command again (a scheduler's resubmit): the run's own checkpoint wins, nothing is written
        Thread.sleep(20); // a file rewritten now would get another modification time
        lines.clear();
        DistributedTraining.Result again = DistributedTraining.run(spark, PretrainFixture.config(dataset, out,
                "train.max-steps=6"), seed, lines::add);
        log = String.join("\n", lines);
        assertEquals(6, again.rank0().resumedFrom(), log);
        assertEquals(6, again.rank0().steps(), log);
        assertTrue(log.contains("resumed at step 6 from file:" + out + "/checkpoints/ckpt-0000000006.safetensors"
                + " (the run's own newest good checkpoint; --resume file:" + seed + " ignored"), log);
        assertEquals(before, snapshot(Path.of(out)), "a finished run submitted again changes no file");
    }

    @Test
    void aResumeThatDoesNotExistFailsBeforeTheStage() {
        Exception e = assertThrows(java.io.FileNotFoundException.class, () -> DistributedTraining.run(spark,
                PretrainFixture.config(dataset, tmp.resolve("nowhere").toString(), "train.max-steps=6"),
                tmp.resolve("no-such-run/checkpoints").toString(), l -> { }));
        assertTrue(e.getMessage().startsWith("--resume file:" + tmp.resolve("no-such-run/checkpoints")
                + ": no such file or folder"), e.getMessage());
        assertTrue(!Files.exists(tmp.resolve("nowhere/checkpoints")), "no stage ran");
    }

    @Test
    void aFailedCommitKeepsThePreviousCheckpointAndAPartialOneIsNeverLoaded() throws Exception {
        String out = tmp.resolve("disk-full").toString();
        ReplicaLoop.beforeCommit = t -> {
            if (t.getName().contains("0000000006")) {
                throw new IOException("No space left on device (injected)");
            }
        };
        List<String> lines = new ArrayList<>();
        Exception e = assertThrows(IllegalStateException.class, () -> run(out, lines));
        assertTrue(e.getMessage().startsWith("pretrain failed 4 times") && e.getMessage().contains("writing checkpoint")
                && e.getMessage().contains("ckpt-0000000006")
                && e.getMessage().contains("No space left on device") && e.getMessage().contains("attempts"),
                e.getMessage());
        Path dir = Path.of(out, "checkpoints");
        assertEquals(List.of("ckpt-0000000003.safetensors", "latest"), files(dir), "no partial or temporary file");
        assertEquals("ckpt-0000000003.safetensors", Files.readString(dir.resolve("latest")).strip());

        // a crash on a store without atomic rename left half a file under the final name, named by latest
        byte[] good = Files.readAllBytes(dir.resolve("ckpt-0000000003.safetensors"));
        Files.write(dir.resolve("ckpt-0000000006.safetensors"), java.util.Arrays.copyOf(good, good.length / 2));
        Files.writeString(dir.resolve("latest"), "ckpt-0000000006.safetensors\n");
        ReplicaLoop.beforeCommit = CheckpointStore.NO_HOOK;
        lines.clear();
        DistributedTraining.Result r = run(out, lines);
        assertEquals(3, r.rank0().resumedFrom(), "the partial checkpoint was skipped: " + lines);
        assertTrue(String.join("\n", lines).contains("resumed at step 3"), lines.toString());
        assertSameAsStraight(r.rank0().checkpoint());
    }

    @Test
    void anS3EndpointThatGoesAwayFailsClearlyAndTheRunResumesWhenItIsBack() throws Exception {
        Path base = Files.createDirectories(tmp.resolve("s3"));
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        String out = "s3a://runs/unavailable";
        S3Proxy s3 = new S3Proxy(base, "runs");
        AtomicBoolean stopped = new AtomicBoolean();
        try {
            s3.configure(conf);
            conf.set("fs.s3a.connection.establish.timeout", "2s");
            S3Proxy first = s3;
            ReplicaLoop.beforeCommit = t -> {
                if (t.getName().contains("0000000006") && stopped.compareAndSet(false, true)) {
                    first.stop(); // the endpoint goes away between the upload and the commit
                }
            };
            List<String> lines = new ArrayList<>();
            long t0 = System.nanoTime();
            Exception e = assertThrows(IllegalStateException.class, () -> run(out, lines));
            System.out.printf("S3 endpoint gone: the job failed after %.1f s: %s%n", (System.nanoTime() - t0) / 1e9,
                    e.getMessage());
            assertTrue(stopped.get());
            assertTrue(e.getMessage().startsWith("pretrain failed 4 times") && e.getMessage().contains(
                    "s3a://runs/unavailable"), e.getMessage());
            assertTrue(!e.getMessage().contains(S3Proxy.SECRET_KEY), "no secret in the message");
        } finally {
            ReplicaLoop.beforeCommit = CheckpointStore.NO_HOOK;
            s3.close();
        }
        // the endpoint is back with the same storage: the run resumes from step 3
        try (S3Proxy again = new S3Proxy(base, "runs")) {
            again.configure(conf);
            List<String> lines = new ArrayList<>();
            DistributedTraining.Result r = run(out, lines);
            assertEquals(3, r.rank0().resumedFrom(), lines.toString());
            assertSameAsStraight(r.rank0().checkpoint());
        }
    }

    @Test
    void aStoppedHdfsDataNodeFailsClearlyAndTheRunResumesWhenItIsBack() throws Exception {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        conf.set("dfs.client.retry.window.base", "100"); // the client's waits between block retries, in ms
        try (MiniHdfs hdfs = new MiniHdfs(tmp.resolve("hdfs").toFile())) {
            String out = hdfs.uri() + "/runs/datanode";
            java.util.concurrent.atomic.AtomicReference<org.apache.hadoop.hdfs.MiniDFSCluster.DataNodeProperties>
                    stopped = new java.util.concurrent.atomic.AtomicReference<>();
            // the DataNode stops while the checkpoint of step 3 is being committed: its bytes are
            // stored, the pointer and everything after cannot be written or read
            ReplicaLoop.beforeCommit = t -> {
                if (t.getName().contains("0000000003") && stopped.get() == null) {
                    stopped.set(hdfs.cluster().stopDataNode(0));
                }
            };
            List<String> lines = new ArrayList<>();
            long t0 = System.nanoTime();
            Exception e = assertThrows(IllegalStateException.class, () -> run(out, lines));
            System.out.printf("HDFS DataNode stopped: the job failed after %.1f s: %s%n", (System.nanoTime() - t0) / 1e9,
                    e.getMessage());
            assertTrue(e.getMessage().startsWith("pretrain failed 4 times") && e.getMessage().contains(hdfs.uri()),
                    e.getMessage());
            ReplicaLoop.beforeCommit = CheckpointStore.NO_HOOK;
            hdfs.cluster().restartDataNode(stopped.get(), true);
            hdfs.cluster().waitActive();
            lines.clear();
            DistributedTraining.Result r = run(out, lines);
            assertEquals(3, r.rank0().resumedFrom(), "the checkpoint whose bytes were stored: " + lines);
            assertSameAsStraight(r.rank0().checkpoint());
        } finally {
            conf.unset("dfs.client.retry.window.base");
        }
    }
}
