package siameseim.pipeline;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import siameseim.config.ConfigError;
import siameseim.config.PipelineConfig;
import siameseim.distributed.DistributedTraining;
import siameseim.evaluate.EncoderExport;
import siameseim.evaluate.KnnEvaluation;
import siameseim.evaluate.LinearProbe;
import siameseim.evaluate.ResultTable;
import siameseim.prepare.DatasetPreparation;

/**
 * The scheduled pipeline: prepare, pretrain, kNN, linear probe and export in one Spark
 * application, idempotent. Each finished stage is recorded in {@code pipeline-state.json} with a
 * fingerprint of everything it depends on (its config and the fingerprint of the stage it reads);
 * a stage whose record matches and whose output still exists is skipped, so a rerun after a
 * success starts no Spark job, and a rerun after a failure continues at the failed stage
 * (pretraining itself resumes from its newest checkpoint). One run at a time: a lock file beside
 * the state, taken over when it was left by a process of this host that no longer exists.
 */
public final class Pipeline {
    public static final String STATE = "pipeline-state.json";
    public static final String LOCK = "pipeline.lock";

    private Pipeline() {}

    /** What one stage did: ran or was up to date, with a one-line summary. */
    public record StageRun(String stage, boolean ran, String summary, double seconds) {}

    public record Report(List<StageRun> stages, Path state) {
        public long ran() {
            return stages.stream().filter(StageRun::ran).count();
        }
    }

    public static Report run(SparkSession spark, PipelineConfig cfg, Consumer<String> out) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Path root = new Path(cfg.output());
        List<String> stages = cfg.stages();
        FileSystem fs = root.getFileSystem(conf);
        fs.mkdirs(root);
        Path lock = new Path(root, LOCK);
        acquire(fs, lock);
        try {
            State state = State.read(fs, new Path(root, STATE));
            List<StageRun> runs = new ArrayList<>();
            java.util.Map<String, String> fingerprints = new java.util.HashMap<>();
            String checkpoint = state.string("pretrain", "checkpoint");
            for (int i = 0; i < stages.size(); i++) {
                String stage = stages.get(i);
                String up = upstream(stage);
                String upFp = up == null ? "" : fingerprints.getOrDefault(up, state.string(up, "fingerprint"));
                String fp = fingerprint(upFp, stage, cfg.settings().get(stage), checkpoint);
                String tag = String.format(Locale.ROOT, "[pipeline] %d/%d %s", i + 1, stages.size(), stage);
                JsonObject rec = state.stage(stage);
                if (rec != null && fp.equals(rec.get("fingerprint").getAsString())
                        && outputExists(fs, cfg, stage, rec)) {
                    String summary = rec.get("summary").getAsString();
                    out.accept(tag + ": up to date (" + rec.get("finished").getAsString() + "): " + summary);
                    runs.add(new StageRun(stage, false, summary, 0));
                } else {
                    out.accept(tag + ": running" + (rec == null ? "" : " (its inputs changed or its output is gone)"));
                    long t0 = System.nanoTime();
                    JsonObject result = runStage(spark, stage, cfg, checkpoint, out);
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    result.addProperty("fingerprint", fp);
                    result.addProperty("finished", Instant.now().toString());
                    result.addProperty("seconds", Math.round(seconds * 10) / 10.0);
                    state.put(stage, result);
                    state.write(fs);
                    out.accept(tag + ": done in " + Math.round(seconds) + " s: " + result.get("summary").getAsString());
                    runs.add(new StageRun(stage, true, result.get("summary").getAsString(), seconds));
                }
                if (stage.equals("pretrain")) {
                    checkpoint = state.string("pretrain", "checkpoint");
                }
                fingerprints.put(stage, fp);
            }
            long ran = runs.stream().filter(StageRun::ran).count();
            out.accept(String.format(Locale.ROOT, "[pipeline] %s: %d of %d stages ran, %d up to date; state in %s",
                    ran == 0 ? "nothing to do" : "done", ran, runs.size(), runs.size() - ran, state.path));
            return new Report(runs, state.path);
        } finally {
            fs.delete(lock, false);
        }
    }

    /** The stage whose output a stage reads: none, prepare, or pretrain for the rest. */
    static String upstream(String stage) {
        return switch (stage) {
            case "prepare" -> null;
            case "pretrain" -> "prepare";
            default -> "pretrain";
        };
    }

    static JsonObject runStage(SparkSession spark, String stage, PipelineConfig cfg, String checkpoint,
            Consumer<String> out) throws IOException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        if (!stage.equals("prepare") && !stage.equals("pretrain") && checkpoint == null) {
            throw new ConfigError("pipeline.stages", "has " + stage + " but no pretrain run finished yet:"
                    + " add the pretrain stage");
        }
        JsonObject r = new JsonObject();
        switch (stage) {
            case "prepare" -> {
                DatasetPreparation.Report p = DatasetPreparation.run(spark, cfg.prepare());
                long images = p.manifest().splits().values().stream().mapToLong(s -> s.images()).sum();
                r.addProperty("dataset", p.output().toString());
                r.addProperty("summary", String.format(Locale.ROOT, "%d images, %d classes, %d files skipped -> %s",
                        images, p.manifest().classes().size(), p.manifest().badFiles().size(), p.output()));
            }
            case "pretrain" -> {
                DistributedTraining.Result t = DistributedTraining.run(spark, cfg.pretrain(), null, out);
                siameseim.events.Summary s = t.rank0();
                r.addProperty("checkpoint", s.checkpoint());
                r.addProperty("steps", s.steps());
                r.addProperty("summary", s.resumedFrom() == s.steps()
                        ? String.format(Locale.ROOT, "already complete at step %d, checkpoint %s", s.steps(),
                                s.checkpoint())
                        : String.format(Locale.ROOT, "%d steps, final loss %.4f, checkpoint %s", s.steps(),
                                s.finalLoss(), s.checkpoint()));
            }
            case "knn" -> {
                KnnEvaluation.Result k = KnnEvaluation.run(spark, cfg.eval().withWeights(checkpoint));
                ResultTable t = k.table();
                t.write(conf, cfg.evalDir(), "knn");
                out.accept(t.markdown().stripTrailing());
                r.addProperty("top1", k.top1());
                r.addProperty("summary", String.format(Locale.ROOT, "top-1 %.2f%%, top-5 %.2f%% -> %s", 100 * k.top1(),
                        100 * k.top5(), new Path(cfg.evalDir(), "knn.json")));
            }
            case "linear-probe" -> {
                LinearProbe.Result p = LinearProbe.run(spark, cfg.eval().withWeights(checkpoint),
                        cfg.linearProbeReplicas());
                ResultTable t = p.table();
                t.write(conf, cfg.evalDir(), "linear-probe");
                out.accept(t.markdown().stripTrailing());
                r.addProperty("top1", p.top1());
                r.addProperty("summary", String.format(Locale.ROOT, "top-1 %.2f%% -> %s", 100 * p.top1(),
                        new Path(cfg.evalDir(), "linear-probe.json")));
            }
            case "export" -> {
                EncoderExport.Result e = EncoderExport.export(conf, checkpoint, cfg.exportDir());
                r.addProperty("summary", String.format(Locale.ROOT, "encoder of step %d, %.2f M parameters -> %s",
                        e.step(), e.parameters() / 1e6, e.directory()));
            }
            default -> throw new IllegalStateException(stage);
        }
        return r;
    }

    static boolean outputExists(FileSystem fs, PipelineConfig cfg, String stage, JsonObject rec) throws IOException {
        return switch (stage) {
            case "prepare" -> fs.exists(new Path(cfg.dataset(), "manifest.json"));
            case "pretrain" -> rec.has("checkpoint") && fs.exists(new Path(rec.get("checkpoint").getAsString()));
            case "knn" -> fs.exists(new Path(cfg.evalDir(), "knn.json"));
            case "linear-probe" -> fs.exists(new Path(cfg.evalDir(), "linear-probe.json"));
            case "export" -> fs.exists(new Path(cfg.exportDir(), EncoderExport.WEIGHTS));
            default -> false;
        };
    }

    /**
     * What a stage's result depends on: the fingerprint of the stage it reads from, the config
     * keys it reads ({@link PipelineConfig#settings}), and for the evaluations the checkpoint.
     */
    static String fingerprint(String previous, String stage, String settings, String checkpoint) {
        String reads = upstream(stage) == null || stage.equals("pretrain") ? "" : checkpoint;
        String text = previous + "\n" + stage + "\n" + reads + "\n" + settings;
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Creates the lock file, or fails naming the run that holds it. */
    static void acquire(FileSystem fs, Path lock) throws IOException {
        String host = host();
        long pid = ProcessHandle.current().pid();
        for (int attempt = 0; attempt < 2; attempt++) {
            try (OutputStream o = fs.create(lock, false)) {
                o.write(String.format(Locale.ROOT, "{\"host\":\"%s\",\"pid\":%d,\"since\":\"%s\"}%n", host, pid,
                        Instant.now()).getBytes(StandardCharsets.UTF_8));
                return;
            } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
                JsonObject holder = readJson(fs, lock);
                if (holder == null) {
                    continue;
                }
                boolean stale = holder != null && host.equals(holder.get("host").getAsString())
                        && ProcessHandle.of(holder.get("pid").getAsLong()).map(p -> !p.isAlive()).orElse(true);
                if (!stale || attempt > 0) {
                    throw new IOException("another pipeline run holds " + lock + " (" + holder + "); if no run is"
                            + " active, delete that file");
                }
                fs.delete(lock, false);
            }
        }
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }

    static JsonObject readJson(FileSystem fs, Path p) throws IOException {
        if (!fs.exists(p)) {
            return null;
        }
        try (InputStream in = fs.open(p)) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return JsonParser.parseString(text).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new IOException(p + " is not valid JSON (" + e.getMessage() + "); delete it to rerun every stage",
                    e);
        }
    }

    /** pipeline-state.json: one record per finished stage. */
    static final class State {
        final Path path;
        final JsonObject root;

        private State(Path path, JsonObject root) {
            this.path = path;
            this.root = root;
        }

        static State read(FileSystem fs, Path p) throws IOException {
            JsonObject o = readJson(fs, p);
            if (o == null) {
                o = new JsonObject();
                o.addProperty("format", "siameseim-pipeline-state");
                o.addProperty("version", 1);
                o.add("stages", new JsonObject());
            } else if (!o.has("stages") || !o.get("stages").isJsonObject()) {
                throw new IOException(p + " has no \"stages\" object; delete it to rerun every stage");
            }
            return new State(fs.makeQualified(p), o);
        }

        JsonObject stage(String name) {
            JsonObject s = root.getAsJsonObject("stages");
            return s.has(name) ? s.getAsJsonObject(name) : null;
        }

        String string(String stage, String key) {
            JsonObject s = stage(stage);
            return s != null && s.has(key) ? s.get(key).getAsString() : null;
        }

        void put(String stage, JsonObject record) {
            root.getAsJsonObject("stages").add(stage, record);
        }

        /** Written beside and renamed over the old state, so a crash never leaves half a file. */
        void write(FileSystem fs) throws IOException {
            Path tmp = new Path(path.getParent(), "." + STATE + ".tmp");
            try (OutputStream o = fs.create(tmp, true)) {
                o.write((new GsonBuilder().setPrettyPrinting().create().toJson(root) + "\n")
                        .getBytes(StandardCharsets.UTF_8));
            }
            fs.delete(path, false);
            if (!fs.rename(tmp, path)) {
                throw new IOException("could not rename " + tmp + " to " + path);
            }
        }
    }
}
