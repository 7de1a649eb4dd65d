package siameseim.spark;

import ai.djl.Device;
import ai.djl.engine.Engine;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import siameseim.model.nn.Torch;

/**
 * The device of a Spark task: the GPU Spark assigned to it, else the CPU. Training replicas
 * (barrier tasks), the doctor and the embedding tasks ({@code embed}, the evaluations' feature
 * extraction, {@code ImageEmbedder}) all choose it here.
 */
public final class TaskDevice {
    /** The CUDA version of the natives the -Pcuda build carries (pytorch-native-cu124). */
    static final String CUDA_NATIVES = "12.4";

    private TaskDevice() {}

    /**
     * The GPU Spark assigned to this task (spark.task.resource.gpu.amount), else the CPU. A GPU
     * that PyTorch cannot see is an error, not a silent fall-back to a CPU many times slower.
     */
    public static Device of(TaskContext ctx) {
        ResourceInformation gpu = ctx.resources().get("gpu").getOrElse(() -> null);
        if (gpu == null || gpu.addresses().length == 0) {
            return Device.cpu();
        }
        int visible = Engine.getEngine("PyTorch").getGpuCount();
        int address = Integer.parseInt(gpu.addresses()[0]);
        if (address >= visible) {
            String where = ctx instanceof BarrierTaskContext b ? "replica " + ctx.partitionId() + " but PyTorch sees "
                    + visible + " CUDA device(s) on " + b.getTaskInfos()[ctx.partitionId()].address()
                    : "task " + ctx.taskAttemptId() + " (partition " + ctx.partitionId() + ") but PyTorch sees "
                    + visible + " CUDA device(s) on its executor";
            throw new IllegalStateException("Spark assigned GPU " + address + " to " + where + ": either the"
                    + " executor has only CPU natives (build with -Papp-jar,cuda, deploy/README.md \"GPUs\"), the"
                    + " NVIDIA driver is missing or older than the CUDA " + CUDA_NATIVES + " natives need (525.60 or"
                    + " newer), or the discovery script's addresses are not CUDA ordinals of this process");
        }
        return Device.gpu(address);
    }

    /**
     * The device of the task running on this thread ({@link #of}; the CPU outside a task), with
     * the engine loaded: on the CPU with {@code threads} intra-op threads ({@code train.threads};
     * 0 leaves the count as it is), as a training replica would run.
     */
    public static Device current(int threads) {
        TaskContext ctx = TaskContext.get();
        Device d = ctx == null ? Device.cpu() : of(ctx);
        Torch.init(d.isGpu() ? 0 : threads);
        return d;
    }
}
