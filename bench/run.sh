#!/usr/bin/env bash
# Runs a Verity benchmark harness and writes its section of docs/BENCHMARKS.md.
#
#   bench/run.sh inference [options]   inference overhead: engine alone, node in-process, HTTP + verifying client
#   bench/run.sh zk [options]          zero-knowledge proofs: prove / verify / size / heap against plain inference
#   bench/run.sh optimistic-economics  Monte Carlo of cheating strategies against the optimistic mode's rule
#   bench/run.sh optimistic-detection  cheats detected at the executor level, extra network compute, executor vs ORT
#   bench/run.sh network [options]     1, 2, 3 workers behind a gateway on loopback: saturation, p50/p99 at 70%, gateway hop
#
# Builds the harness and what it needs first (set VERITY_MVN_OPTS=-o to build offline). Options go
# to the harness (bench/run.sh inference --help). Node settings can be changed as for a node, with
# VERITY_* environment variables (docs/CONFIG.md), e.g. VERITY_ENGINE_INTRA_OP_THREADS=1.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/lib.sh"

case "${1:-}" in
  inference) MAIN=dev.verity.bench.InferenceOverhead ;;
  zk) MAIN=dev.verity.bench.ZkOverhead ;;
  optimistic-economics) MAIN=dev.verity.bench.OptimisticEconomics ;;
  optimistic-detection) MAIN=dev.verity.bench.OptimisticDetection ;;
  network) MAIN=dev.verity.bench.NetworkLoad ;;
  *)
    echo "usage: bench/run.sh inference|zk|network|optimistic-economics|optimistic-detection [options]" >&2
    exit 2
    ;;
esac
NAME="$1"
shift

JAVA_HOME="$(verity_find_jdk)" || exit 1
export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH"
verity_require_maven
# package, not install: the class path then names this checkout's module jars, whatever another
# build may have installed into the local Maven repository meanwhile.
(cd "$ROOT" && mvn -B -q ${VERITY_MVN_OPTS:-} package -DskipTests -pl bench -am) >&2

# The third-party models come from scripts/fetch-test-models.sh; a harness skips what is absent.
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -Xms1g -Xmx1g -XX:+AlwaysPreTouch \
  -Dverity.test.models="${VERITY_TEST_MODELS:-$ROOT/.cache/test-models}" \
  -cp "$ROOT/bench/target/classes:$(cat "$ROOT/bench/target/classpath.txt")" "$MAIN" \
  --doc "$ROOT/docs/BENCHMARKS.md" --command "bench/run.sh $NAME${*:+ $*}" "$@"
