package siameseim.jobs;

import org.apache.spark.sql.SparkSession;
import siameseim.config.EvalConfig;
import siameseim.evaluate.LinearProbe;
import siameseim.evaluate.ResultTable;

/** bin/siameseim linear-probe: LN + BN + Linear on frozen features, LARS, replicas in a barrier stage. */
public final class LinearProbeJob implements Job {

    @Override
    public String name() {
        return "linear-probe";
    }

    @Override
    public String summary() {
        return "linear probe (spec 5.3) of a frozen encoder, trained with LARS across replicas";
    }

    @Override
    public String usage() {
        return EvalJobs.USAGE + " [--replicas N (2)]";
    }

    @Override
    public int run(JobArgs a) throws Exception {
        a.allowOnly("dataset", "weights", "output", "master", "replicas");
        EvalConfig cfg = EvalJobs.config(a);
        try (JobArgs.JobSession session = a.session("siameseim linear-probe")) {
            SparkSession spark = session.spark();
            ResultTable t = LinearProbe.run(spark, cfg, a.intOption("replicas", 2)).table();
            System.out.print(t.markdown());
            t.write(spark.sparkContext().hadoopConfiguration(), a.option("output", null), "linear-probe");
        }
        return 0;
    }

}
