package siameseim.spark;

import ai.djl.Device;
import ai.djl.engine.Engine;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.resource.ResourceInformation;

/** The device of a barrier task: the GPU Spark assigned to it, else the CPU. */
public final class TaskDevice {
    /** The CUDA version of the natives the -Pcuda build carries (pytorch-native-cu124). */
    static final String CUDA_NATIVES = "12.4";

    private TaskDevice() {}

    /**
     * The GPU Spark assigned to this task (spark.task.resource.gpu.amount), else the CPU. A GPU
     * that PyTorch cannot see is an error, not a silent fall-back to a CPU many times slower.
     */
    public static Device of(BarrierTaskContext ctx) {
        ResourceInformation gpu = ctx.resources().get("gpu").getOrElse(() -> null);
        if (gpu == null || gpu.addresses().length == 0) {
            return Device.cpu();
        }
        int visible = Engine.getEngine("PyTorch").getGpuCount();
        int address = Integer.parseInt(gpu.addresses()[0]);
        if (address >= visible) {
            throw new IllegalStateException("Spark assigned GPU " + address + " to replica " + ctx.partitionId()
                    + " but PyTorch sees " + visible + " CUDA device(s) on " + ctx.getTaskInfos()[ctx.partitionId()]
                    .address() + ": either the application jar carries only CPU natives (build it with"
                    + " -Papp-jar,cuda, deploy/README.md \"GPUs\"), the NVIDIA driver is missing or older than the"
                    + " CUDA " + CUDA_NATIVES + " natives need (525.60 or newer, CUDA 12 minor-version compatibility), or the discovery script's"
                    + " addresses are not CUDA ordinals of this process");
        }
        return Device.gpu(address);
    }
}
