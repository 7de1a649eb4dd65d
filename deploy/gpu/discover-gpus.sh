#!/usr/bin/env bash
# Spark resource discovery script for GPUs (spark.executor.resource.gpu.discoveryScript, or
# spark.worker.resource.gpu.discoveryScript on standalone workers). Prints one JSON object:
#   {"name":"gpu","addresses":["0","1"]}
# The addresses are CUDA device ordinals as the executor process sees them, which is what the
# trainer passes to PyTorch (Device.gpu(address)): when CUDA_VISIBLE_DEVICES restricts the
# process (YARN and Kubernetes GPU isolation do), the visible devices are renumbered 0..n-1;
# otherwise the indices nvidia-smi lists. No GPU prints an empty list (Spark then refuses to start
# an executor that asked for GPUs, with its own message).
set -euo pipefail

addresses=()
if [[ -n "${CUDA_VISIBLE_DEVICES:-}" && "${CUDA_VISIBLE_DEVICES}" != "NoDevFiles" ]]; then
  IFS=',' read -r -a visible <<< "$CUDA_VISIBLE_DEVICES"
  for i in "${!visible[@]}"; do
    [[ -n "${visible[$i]// /}" ]] && addresses+=("$i")
  done
elif command -v nvidia-smi > /dev/null 2>&1; then
  while IFS= read -r idx; do
    idx="${idx// /}"
    [[ "$idx" =~ ^[0-9]+$ ]] && addresses+=("$idx")
  done < <(nvidia-smi --query-gpu=index --format=csv,noheader 2> /dev/null || true)
fi

json=""
for a in ${addresses[@]+"${addresses[@]}"}; do
  json+="${json:+,}\"$a\""
done
echo "{\"name\":\"gpu\",\"addresses\":[${json}]}"
