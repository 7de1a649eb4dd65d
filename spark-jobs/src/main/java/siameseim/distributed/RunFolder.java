package siameseim.distributed;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import siameseim.config.PretrainConfig;

/** The run folder's own files beside checkpoints and metrics: {@code config.json}, the resolved config. */
final class RunFolder {
    private RunFolder() {}

    /**
     * Writes the resolved config beside the checkpoints (the run is reproducible from it), unless
     * the file already holds exactly it: a finished run submitted again changes no file.
     */
    static void writeConfig(Configuration conf, PretrainConfig cfg) throws IOException {
        Path p = new Path(cfg.train().output(), "config.json");
        byte[] json = (cfg.json() + "\n").getBytes(StandardCharsets.UTF_8);
        FileSystem fs = p.getFileSystem(conf);
        if (fs.exists(p)) {
            try (InputStream in = fs.open(p)) {
                if (Arrays.equals(in.readAllBytes(), json)) {
                    return;
                }
            }
        }
        try (OutputStream os = fs.create(p, true)) {
            os.write(json);
        }
    }
}
