#!/usr/bin/env bash
# Submits a job to Kubernetes in cluster mode, with the image of deploy/kubernetes/Dockerfile:
#   K8S_API=https://k8s.example.com:6443 IMAGE=registry.example.com/siameseim:0.1.0 \
#   EXECUTORS=4 GPUS_PER_EXECUTOR=8 deploy/submit/kubernetes.sh pretrain --conf pretrain-vit-b16.conf \
#     --dataset s3a://bucket/imagenet --output s3a://bucket/runs/vitb16
# The app jar and the discovery script are inside the image (local:// paths), and in GPU images
# (deploy/kubernetes/Dockerfile.gpu) the CUDA natives jar. GPUs are requested from the NVIDIA
# device plugin (vendor nvidia.com). Settings: common.sh and deploy/README.md.
set -euo pipefail
APP_JAR="${APP_JAR:-local:///opt/siameseim/siameseim-app.jar}"
IMAGE_NATIVES="${IMAGE_NATIVES-/opt/siameseim/natives/*}"
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
: "${K8S_API:?set K8S_API to the Kubernetes API server URL (https://host:port)}"
: "${IMAGE:?set IMAGE to the image built from deploy/kubernetes/Dockerfile}"
extra=(--master "k8s://$K8S_API" --deploy-mode cluster --name "siameseim-$1"
  --num-executors "$EXECUTORS"
  --conf spark.kubernetes.container.image="$IMAGE"
  --conf spark.kubernetes.namespace="${NAMESPACE:-default}"
  --conf spark.kubernetes.authenticate.driver.serviceAccountName="${SERVICE_ACCOUNT:-spark}"
  --conf spark.kubernetes.executor.request.cores=$((SLOTS_PER_EXECUTOR * CORES_PER_REPLICA))
  # the driver pod is restarted by nobody: a failed run is resumed by submitting it again
  --conf spark.kubernetes.driver.pod.name="siameseim-$1-$(date +%s)")
if ((GPUS_PER_EXECUTOR > 0)); then
  extra+=(--conf spark.executor.resource.gpu.vendor=nvidia.com
    --conf spark.executor.resource.gpu.discoveryScript=/opt/siameseim/discover-gpus.sh)
fi
run_submit "${extra[@]}"
