# Settings shared by the submit scripts (sourced, not run). Every knob is an environment
# variable with a default; deploy/README.md explains each one.
#
# One training replica per Spark task, one task per GPU (or per executor on CPU clusters). The
# pretrain/finetune/linear-probe jobs run one barrier stage of distributed.replicas tasks, so the
# cluster must offer that many task slots at once: EXECUTORS x max(GPUS_PER_EXECUTOR, 1) slots.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${SPARK_HOME:?set SPARK_HOME to the Spark 4.x distribution of the cluster (its bin/spark-submit is used)}"
APP_JAR="${APP_JAR:-$(ls "$ROOT"/spark-jobs/target/siameseim-spark-jobs-*-app.jar 2> /dev/null | head -1 || true)}"
EXECUTORS="${EXECUTORS:-2}"                 # executors = replicas on CPU; replicas / GPUs on GPU clusters
GPUS_PER_EXECUTOR="${GPUS_PER_EXECUTOR:-0}" # 0: CPU training
CORES_PER_REPLICA="${CORES_PER_REPLICA:-8}" # spark.task.cpus: decoding, augmentation and intra-op threads
EXECUTOR_MEMORY="${EXECUTOR_MEMORY:-16g}"   # JVM heap: decoded images, prefetch queues, features
EXECUTOR_MEMORY_OVERHEAD="${EXECUTOR_MEMORY_OVERHEAD:-16g}"  # off-heap: PyTorch tensors on CPU, natives
DRIVER_MEMORY="${DRIVER_MEMORY:-4g}"
BARRIER_WAIT_CHECKS="${BARRIER_WAIT_CHECKS:-40}"  # x 15 s: how long the barrier stage waits for slots
# GPU: the CUDA natives jar of -Pcuda (a path, or a URI spark-submit's --jars takes: hdfs://, local://)
CUDA_NATIVES="${CUDA_NATIVES-$(ls "$ROOT"/spark-jobs/target/natives/pytorch-native-cu*.jar 2> /dev/null | head -1 || true)}"
LIBTORCH="${LIBTORCH:-}"                    # GPU, instead: a hand-installed libtorch 2.5.1+cu124 lib folder on every node
DRY_RUN="${DRY_RUN:-0}"                     # 1: print the spark-submit command (an argument per line)
AUTH="${AUTH:-1}"   # 1: Spark's RPC authenticated (spark.authenticate) and encrypted (spark.network.crypto.enabled)

if [[ "$DRY_RUN" != 1 && ( -z "$APP_JAR" || ! -f "$APP_JAR" ) && "$APP_JAR" != local://* ]]; then
  echo "submit: no application jar; build it with 'mvn -Papp-jar package -DskipTests' (GPU: -Papp-jar,cuda)" \
    "or set APP_JAR" >&2
  exit 1
fi
(($# >= 1)) || { echo "usage: $0 <job> [--conf FILE] [--set key=value ...] [job options]" >&2; exit 2; }

SLOTS_PER_EXECUTOR=$((GPUS_PER_EXECUTOR > 0 ? GPUS_PER_EXECUTOR : 1))
REPLICAS=$((EXECUTORS * SLOTS_PER_EXECUTOR))
DJL_OPTS="-Dai.djl.offline=true -DOPT_OUT_TRACKING=true -Dai.djl.pytorch.graph_optimizer=false"

SUBMIT=(
  --class siameseim.jobs.Main
  --driver-memory "$DRIVER_MEMORY"
  --driver-java-options "$DJL_OPTS"
  --executor-memory "$EXECUTOR_MEMORY"
  --executor-cores $((SLOTS_PER_EXECUTOR * CORES_PER_REPLICA))
  --conf spark.executor.memoryOverhead="$EXECUTOR_MEMORY_OVERHEAD"
  --conf spark.executor.extraJavaOptions="$DJL_OPTS"
  --conf spark.task.cpus="$CORES_PER_REPLICA"
  # barrier stages need every slot at once: no dynamic allocation, and wait for slots while
  # executors start (Spark checks every 15 s, then fails the job with a message naming the slots)
  --conf spark.dynamicAllocation.enabled=false
  --conf spark.scheduler.barrier.maxConcurrentTasksCheck.interval=15s
  --conf spark.scheduler.barrier.maxConcurrentTasksCheck.maxFailures="$BARRIER_WAIT_CHECKS"
  --conf spark.scheduler.minRegisteredResourcesRatio=1.0
  --conf spark.scheduler.maxRegisteredResourcesWaitingTime=600s
  # a failed replica fails the barrier stage; Spark retries the stage and the replicas resume
  # from the newest checkpoint
  --conf spark.stage.maxConsecutiveAttempts=8
  --conf spark.ui.showConsoleProgress=false
)
# The run's collective secret reaches the tasks inside their closures, which Spark's RPC carries;
# with AUTH=1 only the application's own processes can talk to it, and its traffic is encrypted.
# YARN and Kubernetes generate the shared secret per application; standalone.sh needs the cluster's.
if [[ "$AUTH" == 1 ]]; then
  SUBMIT+=(--conf spark.authenticate=true --conf spark.network.crypto.enabled=true)
fi
if ((GPUS_PER_EXECUTOR > 0)); then
  SUBMIT+=(
    --conf spark.executor.resource.gpu.amount="$GPUS_PER_EXECUTOR"
    --conf spark.task.resource.gpu.amount=1
  )
  # CUDA natives: the -Pcuda jar next to the application jar (DJL needs it as a jar of its own), the
  # image's (kubernetes.sh), or a libtorch installed by hand
  if [[ -n "$LIBTORCH" ]]; then
    SUBMIT+=(
      --conf spark.executorEnv.PYTORCH_LIBRARY_PATH="$LIBTORCH"
      --conf spark.executorEnv.PYTORCH_VERSION=2.5.1
      --conf spark.executorEnv.PYTORCH_FLAVOR=cu124
    )
  elif [[ -n "${IMAGE_NATIVES:-}" ]]; then
    SUBMIT+=(--conf spark.executor.extraClassPath="$IMAGE_NATIVES")
  elif [[ -n "$CUDA_NATIVES" ]]; then
    SUBMIT+=(--jars "$CUDA_NATIVES")
  else
    echo "submit: GPU executors need the CUDA natives: build with 'mvn -Papp-jar,cuda package -DskipTests'" \
      "(spark-jobs/target/natives/), or set CUDA_NATIVES to that jar's location or LIBTORCH to a libtorch" >&2
    exit 1
  fi
fi

# the job's arguments; for the training jobs distributed.replicas follows the slots unless the
# caller set it
JOB_ARGS=("$@")
case "$1" in
  pretrain|finetune|pipeline)
    [[ " $* " == *" distributed.replicas="* ]] || JOB_ARGS+=(--set "distributed.replicas=$REPLICAS") ;;
  linear-probe)
    [[ " $* " == *" --replicas "* ]] || JOB_ARGS+=(--replicas "$REPLICAS") ;;
esac

run_submit() {
  local cmd=("$SPARK_HOME/bin/spark-submit" "$@" "${SUBMIT[@]}" "$APP_JAR" "${JOB_ARGS[@]}")
  if [[ "$DRY_RUN" == 1 ]]; then
    printf '%s\n' "${cmd[@]}"   # one argument per line
  else
    exec "${cmd[@]}"
  fi
}
