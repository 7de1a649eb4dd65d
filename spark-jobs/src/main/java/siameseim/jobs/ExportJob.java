package siameseim.jobs;

import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import siameseim.evaluate.EncoderExport;
import siameseim.model.nn.Torch;

/** bin/siameseim export: the online encoder of a checkpoint as timm-named safetensors + model directory. */
public final class ExportJob implements Job {

    @Override
    public String name() {
        return "export";
    }

    @Override
    public String summary() {
        return "export a checkpoint's online encoder (timm/MAE-named safetensors or .pth, config, README)";
    }

    @Override
    public String usage() {
        return "--checkpoint FILE --output DIR [--format safetensors|pth] [--conf C for a PyTorch checkpoint]";
    }

    @Override
    public int run(JobArgs a) throws Exception {
        a.allowOnly("checkpoint", "output", "format");
        String ckpt = a.option("checkpoint", null);
        String out = a.option("output", null);
        if (ckpt == null || out == null) {
            throw new JobArgs.UsageError("--checkpoint FILE and --output DIR are required");
        }
        EncoderExport.Format format;
        try {
            format = EncoderExport.Format.named(a.option("format", "safetensors"));
        } catch (IllegalArgumentException e) {
            throw new JobArgs.UsageError(e.getMessage());
        }
        Torch.init();
        // a PyTorch checkpoint does not name its architecture: the config (--conf, --set) does
        siameseim.config.PretrainConfig official = siameseim.config.ConfigLoader.loadPretrain(
                a.confFile("pretrain-demo.conf"), a.overrides());
        EncoderExport.Result r = EncoderExport.export(new Configuration(), ckpt, out, format, official);
        System.out.printf(Locale.ROOT, "[export] %s: encoder of step %d, %d tensors, %.2f M parameters (ViT %d px, patch %d,"
                + " width %d, depth %d)%n", r.directory(), r.step(), r.tensors(), r.parameters() / 1e6,
                r.model().imageSize(), r.model().patchSize(), r.model().encoder().width(), r.model().encoder().depth());
        return 0;
    }
}
