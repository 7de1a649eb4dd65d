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
run_submit --master "$MASTER" --deploy-mode "${DEPLOY_MODE:-client}" \
  --total-executor-cores $((EXECUTORS * SLOTS_PER_EXECUTOR * CORES_PER_REPLICA))
