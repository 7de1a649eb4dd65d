package siameseim.jobs;

import org.apache.spark.sql.SparkSession;
import siameseim.config.PretrainConfig;
import siameseim.distributed.DistributedTraining;
import siameseim.distributed.TrainingKind;

/** bin/siameseim pretrain: SiameseIM on a prepared dataset, N replicas in one barrier stage. */
public final class PretrainJob implements Job {

    @Override
    public String name() {
        return "pretrain";
    }

    @Override
    public String summary() {
        return "distributed SiameseIM pretraining on a prepared dataset (resumes from the output's checkpoints)";
    }

    @Override
    public String usage() {
        return "--dataset DIR --output DIR [--replicas N] [--subset FILE] [--resume CHECKPOINT] [--master URL]";
    }

    @Override
    public int run(JobArgs a) throws Exception {
        a.allowOnly("dataset", "output", "replicas", "subset", "resume", "master");
        PretrainConfig cfg = TrainingJobs.config(a);
        try (JobArgs.JobSession session = a.session("siameseim pretrain")) {
            SparkSession spark = session.spark();
            DistributedTraining.Result r = DistributedTraining.run(spark, cfg, a.option("resume", null),
                    System.out::println);
            System.out.println(TrainingJobs.doneLine(TrainingKind.PRETRAIN, r));
        }
        return 0;
    }
}
