package siameseim.spark;

import java.io.Serializable;
import java.util.Iterator;
import org.apache.spark.api.java.JavaRDD;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

/**
 * Barrier execution mode from Java: {@code JavaRDD} has no {@code barrier()}, so this goes through
 * the Scala RDD with a serialisable Function1 and converts the iterators.
 */
public final class Barrier {
    private Barrier() {}

    /** A partition function that may throw. */
    public interface PartitionFunction<T, U> extends Serializable {
        Iterator<U> call(Iterator<T> in) throws Exception;
    }

    public static <T, U> JavaRDD<U> mapPartitions(JavaRDD<T> rdd, PartitionFunction<T, U> f, Class<U> type) {
        ClassTag<U> tag = ClassTag$.MODULE$.apply(type);
        return JavaRDD.fromRDD(rdd.rdd().barrier().mapPartitions(new Fn<>(f), false, tag), tag);
    }

    /**
     * Collects the results of a barrier stage so that Spark can retry it. Spark retries a failed
     * barrier stage (all its tasks, up to spark.stage.maxConsecutiveAttempts) only when it is a
     * shuffle-map stage; a barrier result stage is aborted at its first failure ("Could not
     * recover from a failed barrier ResultStage", DAGScheduler). A one-partition shuffle after
     * the barrier stage makes it a shuffle-map stage; the results are small (one record per task).
     */
    public static <U> java.util.List<U> collectRetryable(JavaRDD<U> barrierResults) {
        return barrierResults.repartition(1).collect();
    }

    private static final class Fn<T, U> extends AbstractFunction1<scala.collection.Iterator<T>, scala.collection.Iterator<U>>
            implements Serializable {
        private static final long serialVersionUID = 1L;
        private final PartitionFunction<T, U> f;

        Fn(PartitionFunction<T, U> f) {
            this.f = f;
        }

        @Override
        public scala.collection.Iterator<U> apply(scala.collection.Iterator<T> in) {
            try {
                return scala.jdk.javaapi.CollectionConverters.asScala(f.call(scala.jdk.javaapi.CollectionConverters.asJava(in)));
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        }
    }
}
