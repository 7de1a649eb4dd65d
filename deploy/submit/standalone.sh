#!/usr/bin/env bash
# Submits a job to a Spark standalone cluster:
#   MASTER=spark://host:7077 deploy/submit/standalone.sh pretrain --conf pretrain-vit-b16.conf \
#     --dataset hdfs:///data/imagenet --output hdfs:///runs/vitb16
# GPUs on standalone: each Worker announces them (SPARK_WORKER_OPTS="-Dspark.worker.resource.gpu.amount=8
# -Dspark.worker.resource.gpu.discoveryScript=/opt/siameseim/discover-gpus.sh"), executors take
# GPUS_PER_EXECUTOR of them. Settings: deploy/submit/common.sh and deploy/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
: "${MASTER:?set MASTER to the master URL, spark://host:port}"
if [[ "$AUTH" == 1 ]]; then
  # standalone has no per-application secret: the master, the workers and this driver share one,
  # set as spark.authenticate.secret in spark-defaults.conf on every node (never on a command line)
  defaults="${SPARK_CONF_DIR:-$SPARK_HOME/conf}/spark-defaults.conf"
  if ! grep -qs '^[[:space:]]*spark\.authenticate\.secret[[:space:]=]' "$defaults"; then
    echo "standalone.sh: AUTH=1 needs the cluster's shared secret as spark.authenticate.secret in $defaults" \
      "(the same on the master and the workers, with spark.authenticate=true there); AUTH=0 turns Spark's" \
      "authentication off on a trusted network" >&2
    exit 1
  fi
fi
run_submit --master "$MASTER" --deploy-mode "${DEPLOY_MODE:-client}" \
  --total-executor-cores $((EXECUTORS * SLOTS_PER_EXECUTOR * CORES_PER_REPLICA))
