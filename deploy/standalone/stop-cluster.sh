#!/usr/bin/env bash
# Stops the cluster started by start-cluster.sh: TERM to every PID in DIR/pids, KILL after 10 s.
#   deploy/standalone/stop-cluster.sh [--dir DIR]
set -uo pipefail
DIR="${TMPDIR:-/tmp}/siameseim-standalone"
[[ "${1:-}" == "--dir" ]] && DIR=$2
[[ -f "$DIR/pids" ]] || { echo "stop-cluster: no $DIR/pids" >&2; exit 1; }
mapfile -t PIDS < "$DIR/pids"
# executors are children of the workers: stop them with their worker
for p in "${PIDS[@]}"; do
  pkill -TERM -P "$p" 2>/dev/null
  kill -TERM "$p" 2>/dev/null
done
for _ in $(seq 1 20); do
  alive=0
  for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
  ((alive)) || break
  sleep 0.5
done
for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
rm -f "$DIR/pids"
echo "stop-cluster: stopped ${#PIDS[@]} processes"
