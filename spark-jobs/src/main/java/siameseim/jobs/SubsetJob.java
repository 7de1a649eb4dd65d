package siameseim.jobs;

import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.SubsetManifest;

/** bin/siameseim subset: a small manifest selecting images of a prepared dataset. */
public final class SubsetJob implements Job {

    @Override
    public String name() {
        return "subset";
    }

    @Override
    public String summary() {
        return "subset manifest of a prepared dataset: an ImageNet 1% list file, or N images per class";
    }

    @Override
    public String usage() {
        return "--dataset DIR --output FILE (--list FILE | --per-class N [--seed S]) [--split train]";
    }

    @Override
    public int run(JobArgs a) throws Exception {
        a.allowOnly("dataset", "output", "list", "per-class", "seed", "split");
        String dataset = a.option("dataset", null);
        String output = a.option("output", null);
        if (dataset == null || output == null) {
            throw new JobArgs.UsageError("--dataset and --output are required");
        }
        String list = a.option("list", null);
        int perClass = a.intOption("per-class", 0);
        if ((list == null) == (perClass <= 0)) {
            throw new JobArgs.UsageError("give exactly one of --list FILE and --per-class N");
        }
        Configuration conf = new Configuration();
        Path root = new Path(dataset);
        Manifest m = Manifest.read(conf, root);
        String split = a.option("split", "train");
        SubsetManifest s = list != null ? SubsetManifest.fromList(conf, root, m, split, new Path(list))
                : SubsetManifest.perClass(conf, root, m, split, perClass, a.intOption("seed", 0));
        s.write(conf, new Path(output));
        System.out.printf(Locale.ROOT, "[subset] %s: %d images of %s/%s (%s)%n", output, s.size(), dataset, split,
                s.selection());
        if (!s.missing().isEmpty()) {
            System.out.printf(Locale.ROOT, "[subset] %d listed images are not in the dataset (recorded under"
                    + " \"missing\"), e.g. %s%n", s.missing().size(), s.missing().get(0));
        }
        return 0;
    }
}
