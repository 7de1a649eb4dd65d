package siameseim.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import siameseim.testing.LocalSpark;

/** Tasks without a GPU resource run on the CPU with the thread count they were given. */
class TaskDeviceTest {
    @Test
    void aTaskWithoutAnAssignedGpuRunsOnTheCpuWithTrainThreads() {
        SparkSession spark = LocalSpark.start();
        try {
            List<String> got = JavaSparkContext.fromSparkContext(spark.sparkContext())
                    .parallelize(List.of(1, 2), 2)
                    .map(i -> TaskDevice.current(1) + " threads " + JniUtils.getNumThreads()).collect();
            assertEquals(List.of("cpu() threads 1", "cpu() threads 1"), got);
            assertEquals(Device.cpu(), TaskDevice.current(0), "outside a task");
        } finally {
            spark.stop();
        }
    }
}
