package siameseim.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import siameseim.testing.LocalSpark;
import siameseim.testing.PretrainFixture;
import siameseim.testing.S3Proxy;

/**
 * A pretraining run whose output lives on S3: the S3 secret key appears in no log line (every
 * logger of the JVM at INFO, Spark's and Hadoop's included), no console line, and no
 * file the run writes (resolved config, checkpoints with their stored config, metrics,
 * TensorBoard files).
 */
class SecretsTest {

    @Test
    void theS3SecretIsInNoLogLineAndNoFile(@TempDir Path tmp) throws Exception {
        // Spark first: its first session re-initialises log4j, which would drop an appender added before
        SparkSession spark = LocalSpark.start();
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        StringWriter captured = new StringWriter();
        WriterAppender appender = WriterAppender.newBuilder().setName("secrets-test").setTarget(captured)
                .setLayout(PatternLayout.newBuilder().withPattern("%p %c %m%n%ex").build()).build();
        appender.start();
        ctx.getConfiguration().addAppender(appender);
        ctx.getConfiguration().getRootLogger().addAppender(appender, Level.INFO, null);
        ctx.updateLoggers();
        List<String> lines = new ArrayList<>();
        Path base = Files.createDirectories(tmp.resolve("s3"));
        try (S3Proxy s3 = new S3Proxy(base, "runs")) {
            Configuration conf = spark.sparkContext().hadoopConfiguration();
            s3.configure(conf);
            String dataset = PretrainFixture.dataset(spark, tmp);
            DistributedTraining.Result r = DistributedTraining.run(spark, PretrainFixture.config(dataset,
                    "s3a://runs/secret-check", "train.max-steps=4", "checkpoint.every-steps=2"), null, lines::add);
            assertEquals(4, r.rank0().steps());

            String log = captured.toString();
            assertTrue(log.contains("siameseim"), "the appender saw our log lines");
            assertFalse(log.contains(S3Proxy.SECRET_KEY), "the secret key in a log line");
            assertFalse(String.join("\n", lines).contains(S3Proxy.SECRET_KEY), "the secret key on the console");

            FileSystem fs = new org.apache.hadoop.fs.Path("s3a://runs/secret-check").getFileSystem(conf);
            RemoteIterator<LocatedFileStatus> it = fs.listFiles(new org.apache.hadoop.fs.Path("s3a://runs/secret-check"),
                    true);
            int checked = 0;
            while (it.hasNext()) {
                org.apache.hadoop.fs.Path p = it.next().getPath();
                try (InputStream in = fs.open(p)) {
                    String text = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
                    assertFalse(text.contains(S3Proxy.SECRET_KEY), "the secret key in " + p);
                    assertFalse(text.contains("fs.s3a."), "S3A settings in " + p);
                }
                checked++;
            }
            assertTrue(checked >= 5, "config, checkpoints, metrics and TensorBoard files: " + checked);
        } finally {
            spark.stop();
            ctx.getConfiguration().getRootLogger().removeAppender("secrets-test");
            ctx.updateLoggers();
            appender.stop();
        }
    }
}
