package siameseim.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValueFactory;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The scheduled pipeline (section {@code pipeline}, docs/pipelines.md): its folder (no trailing
 * slash), the stages it runs, and each stage's validated config with the pipeline's paths filled
 * in (the dataset under {@code output/dataset} when {@code input} is given, else
 * {@code data.path}; the run under {@code output/pretrain}). The evaluations get
 * {@code eval.weights} when the pretrain stage has a checkpoint ({@link EvalConfig#withWeights}).
 * {@code settings}: per stage, the JSON of the keys its result depends on (the config part of the
 * stage's fingerprint); keys that change only speed, logging or scheduling are left out, so
 * changing them reruns nothing.
 */
public record PipelineConfig(String output, String input, String dataset, List<String> stages,
        int linearProbeReplicas, PrepareConfig prepare, PretrainConfig pretrain, EvalConfig eval,
        Map<String, String> settings) {

    /** Stages in the order they run. */
    public static final List<String> STAGES = List.of("prepare", "pretrain", "knn", "linear-probe", "export");

    public String run() {
        return child("pretrain");
    }

    public String evalDir() {
        return child("eval");
    }

    public String exportDir() {
        return child("export");
    }

    private String child(String name) {
        return output + "/" + name;
    }

    public static PipelineConfig from(Config c) {
        ConfigReader r = new ConfigReader(c);
        if (r.isNull("pipeline.output")) {
            throw new ConfigError("pipeline.output", "is not set: give the pipeline's folder"
                    + " (--set pipeline.output=DIR)");
        }
        String output = r.stringValue("pipeline.output").replaceAll("/+$", "");
        String input = r.isNull("pipeline.input") ? null : r.stringValue("pipeline.input");
        List<String> stages = stages(c);
        int replicas = r.intValue("pipeline.linear-probe-replicas", 1, 1 << 16);
        String dataset;
        if (input != null) {
            dataset = output + "/dataset";
        } else if (!r.isNull("data.path")) {
            dataset = r.stringValue("data.path");
        } else {
            throw new ConfigError("pipeline.input", "and data.path are both unset: give the raw images"
                    + " (pipeline.input) or a prepared dataset (data.path)");
        }
        if (stages.contains("prepare") && input == null) {
            throw new ConfigError("pipeline.input", "is not set, but pipeline.stages has prepare: give the"
                    + " raw ImageNet-layout tree, or drop prepare and set data.path");
        }
        Config stage = set(set(c, "data.path", dataset), "train.output", output + "/pretrain");
        PrepareConfig prepare = null;
        Map<String, String> settings = new LinkedHashMap<>();
        if (input != null) {
            Config p = set(set(stage, "prepare.input", input), "prepare.output", dataset);
            prepare = PrepareConfig.from(p);
            settings.put("prepare", json(p.getConfig("prepare").withoutPath("tasks")));
        }
        PretrainConfig pretrain = PretrainConfig.from(stage);
        EvalConfig eval = EvalConfig.from(stage);
        settings.put("pretrain", json(stage.withoutPath("eval").withoutPath("finetune").withoutPath("prepare")
                .withoutPath("pipeline").withoutPath("checkpoint").withoutPath("train.threads")
                .withoutPath("train.pin-threads").withoutPath("train.log-every-seconds")
                .withoutPath("distributed.timeout-seconds").withoutPath("distributed.bind-host")));
        Config ev = stage.getConfig("eval").withoutPath("weights");
        settings.put("knn", json(ev.withoutPath("linear").withoutPath("few-shot")));
        settings.put("linear-probe", json(ev.withoutPath("knn").withoutPath("few-shot")
                .withFallback(c.getConfig("pipeline").withOnlyPath("linear-probe-replicas"))));
        settings.put("export", "{}");
        return new PipelineConfig(output, input, dataset, stages, replicas, prepare, pretrain, eval,
                Map.copyOf(settings));
    }

    /** pipeline.stages, checked, in run order. */
    static List<String> stages(Config config) {
        List<String> given;
        try {
            given = config.getStringList("pipeline.stages");
        } catch (ConfigException e) {
            throw new ConfigError("pipeline.stages", "must be a list of stage names: " + e.getMessage());
        }
        for (String s : given) {
            if (!STAGES.contains(s)) {
                throw new ConfigError("pipeline.stages", "has unknown stage '" + s + "'; stages: " + STAGES);
            }
        }
        if (given.isEmpty()) {
            throw new ConfigError("pipeline.stages", "is empty");
        }
        return STAGES.stream().filter(given::contains).toList();
    }

    private static Config set(Config c, String key, String value) {
        return c.withValue(key, ConfigValueFactory.fromAnyRef(value, "pipeline"));
    }

    private static String json(Config c) {
        return ConfigLoader.toJson(c);
    }
}
