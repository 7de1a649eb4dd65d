#!/usr/bin/env bash
# Starts a Spark standalone cluster on this machine from the project's Maven jars (no Spark
# distribution): one Master and N Workers, each a separate JVM bound to 127.0.0.1.
#   deploy/standalone/start-cluster.sh [--workers 2] [--cores 1] [--memory 3g] [--dir DIR] [--port 7077]
# Prints the master URL (spark://127.0.0.1:PORT) on the last line. PIDs go to DIR/pids, logs to
# DIR/logs; stop it with deploy/standalone/stop-cluster.sh --dir DIR.
# Classpath: $SIAMESEIM_CLASSPATH, else the one bin/siameseim builds (run any bin/siameseim job once).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORKERS=2
CORES=1
MEMORY=3g
DIR="${TMPDIR:-/tmp}/siameseim-standalone"
PORT=7077
while (($#)); do
  case "$1" in
    --workers) WORKERS=$2; shift 2 ;;
    --cores) CORES=$2; shift 2 ;;
    --memory) MEMORY=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    *) echo "start-cluster: unknown option $1" >&2; exit 2 ;;
  esac
done

if [[ -n "${SIAMESEIM_CLASSPATH:-}" ]]; then
  CP="$SIAMESEIM_CLASSPATH"
else
  CPFILE="$ROOT/spark-jobs/target/classpath.txt"
  [[ -f "$CPFILE" ]] || { echo "start-cluster: $CPFILE is missing; run 'bin/siameseim --help' once to build" >&2; exit 1; }
  CP="$ROOT/spark-jobs/target/classes:$(cat "$CPFILE")"
fi
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
if [[ -f "$DIR/pids" ]] && xargs -r kill -0 < "$DIR/pids" 2>/dev/null; then
  echo "start-cluster: a cluster from $DIR is running; stop it first (stop-cluster.sh --dir $DIR)" >&2
  exit 1
fi
mkdir -p "$DIR/logs" "$DIR/work" "$DIR/spark-home/jars"
: > "$DIR/pids"

# Workers start executors from SPARK_HOME/jars plus spark.executor.extraClassPath. With a Spark
# distribution (SPARK_HOME with jars/) executors get its jars and the application jar, as on a
# real cluster; without one, an empty SPARK_HOME, and the launcher sets extraClassPath to the
# driver's classpath (siameseim.shareDriverClasspath).
if [[ -z "${SPARK_HOME:-}" || ! -d "${SPARK_HOME}/jars" ]]; then
  export SPARK_HOME="$DIR/spark-home"
fi
export SPARK_HOME SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1
FLAGS=(-Xmx512m -XX:+IgnoreUnrecognizedVMOptions --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
  -Dlog4j2.configurationFile="$ROOT/deploy/standalone/log4j2-daemon.properties")

"$JAVA" "${FLAGS[@]}" -cp "$CP" org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$PORT" \
  --webui-port 0 > "$DIR/logs/master.log" 2>&1 &
echo $! >> "$DIR/pids"
URL="spark://127.0.0.1:$PORT"
for _ in $(seq 1 120); do
  grep -q "I have been elected leader" "$DIR/logs/master.log" 2>/dev/null && break
  kill -0 "$(head -1 "$DIR/pids")" 2>/dev/null || { cat "$DIR/logs/master.log" >&2; exit 1; }
  sleep 0.5
done
grep -q "I have been elected leader" "$DIR/logs/master.log" || {
  echo "start-cluster: the master did not start in 60 s; log in $DIR/logs/master.log" >&2; exit 1; }
for i in $(seq 1 "$WORKERS"); do
  "$JAVA" "${FLAGS[@]}" -cp "$CP" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores "$CORES" \
    --memory "$MEMORY" --webui-port 0 --work-dir "$DIR/work/worker-$i" "$URL" > "$DIR/logs/worker-$i.log" 2>&1 &
  echo $! >> "$DIR/pids"
done
n=0
for _ in $(seq 1 120); do
  n=$(cat "$DIR"/logs/worker-*.log 2>/dev/null | grep -c "Successfully registered with master" || true)
  ((n >= WORKERS)) && break
  sleep 0.5
done
((n >= WORKERS)) || { echo "start-cluster: only $n of $WORKERS workers registered; logs in $DIR/logs" >&2; exit 1; }
echo "start-cluster: master and $WORKERS workers ($CORES cores, $MEMORY each) running; PIDs in $DIR/pids"
echo "$URL"
