package siameseim.distributed;

import java.io.IOException;
import java.io.Serializable;
import org.apache.hadoop.conf.Configuration;
import siameseim.config.PretrainConfig;
import siameseim.datasets.shards.Manifest;
import siameseim.train.Schedule;

/**
 * What differs between the kinds of training run, decided once: the job's entry picks
 * {@link #PRETRAIN} or {@link #FINETUNE}, and that object builds everything its kind needs, on the
 * driver (the split, the schedule, the checks before the stage) and in each replica (its
 * {@link ReplicaLoop.Job}). The code downstream never asks which kind it runs.
 */
public sealed interface TrainingKind extends Serializable permits Pretraining, Finetuning {
    TrainingKind PRETRAIN = new Pretraining();
    TrainingKind FINETUNE = new Finetuning();

    /** "pretrain" or "finetune": console prefix, job group, metrics plots' title. */
    String tag();

    /** What the run is, for the Spark UI. */
    String title();

    /** The config key that sets the run's length, for the "nothing to do" line. */
    String epochsKey();

    /** Why replicas may start differently, for the agreement check's message. */
    String sameStart();

    /** The split the run trains on. */
    String trainSplit(PretrainConfig cfg);

    /** The run's length over {@code images} training images; the driver and every replica use it. */
    Schedule schedule(PretrainConfig cfg, long images);

    /** Fails, naming the key to change, when this kind of run cannot start on the dataset. */
    void checkBeforeStage(PretrainConfig cfg, Configuration conf, Manifest m) throws IOException;

    /**
     * The checkpoint {@code --resume} seeds the run with, as the replicas will read it (called on
     * the driver, after the checks): this tool's checkpoints pass through; a torch.save file is
     * refused here, in one line, unless the kind can convert it ({@link Pretraining}).
     */
    default String resumeSeed(PretrainConfig cfg, Configuration conf, Schedule schedule, String resume)
            throws IOException {
        if (resume != null && siameseim.checkpoint.OfficialCheckpoint.isTorch(conf, resume)) {
            throw new IllegalArgumentException("--resume " + resume + " is a PyTorch file: " + tag() + " --resume takes"
                    + " this tool's checkpoints; start from its weights with --weights instead");
        }
        return resume;
    }

    /** A replica's job: its trainer, batches and evaluations. */
    ReplicaLoop.Job<?> replica(ReplicaLoop.Context ctx, Schedule schedule) throws IOException;
}
