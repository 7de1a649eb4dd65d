#!/usr/bin/env bash
# Submits a job to YARN (HADOOP_CONF_DIR or YARN_CONF_DIR must point at the cluster's config):
#   QUEUE=ml EXECUTORS=4 GPUS_PER_EXECUTOR=8 LIBTORCH=/opt/libtorch/lib deploy/submit/yarn.sh pretrain \
#     --conf pretrain-vit-b16.conf --dataset hdfs:///data/imagenet --output hdfs:///runs/vitb16
# GPUs: YARN must schedule yarn.io/gpu (resource-types.xml); Spark maps spark.executor.resource.gpu
# to it and the discovery script, shipped with --files, reads the container's CUDA_VISIBLE_DEVICES.
# Cluster mode: the driver runs in the application master; a second application attempt resumes
# from the newest checkpoint. Settings: deploy/submit/common.sh and deploy/README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
[[ -n "${HADOOP_CONF_DIR:-}${YARN_CONF_DIR:-}" || "$DRY_RUN" == 1 ]] \
  || { echo "yarn.sh: set HADOOP_CONF_DIR (or YARN_CONF_DIR) to the cluster's configuration" >&2; exit 1; }
extra=(--master yarn --deploy-mode "${DEPLOY_MODE:-cluster}" --queue "${QUEUE:-default}"
  --num-executors "$EXECUTORS" --conf spark.yarn.maxAppAttempts="${MAX_APP_ATTEMPTS:-2}")
if ((GPUS_PER_EXECUTOR > 0)); then
  extra+=(--files "$ROOT/deploy/gpu/discover-gpus.sh"
    --conf spark.executor.resource.gpu.discoveryScript=./discover-gpus.sh)
fi
run_submit "${extra[@]}"
