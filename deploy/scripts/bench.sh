#!/usr/bin/env bash
# bench.sh: runs Osprey's benchmarks (cmd/osprey-bench) and writes docs/BENCHMARKS.md.
#
# Usage: deploy/scripts/bench.sh [osprey-bench flags]   e.g. -quick, -only broker,collector
#
# It starts the test services (MariaDB, for the metrics-write figure) with
# services.sh unless they already run, builds the bench program, runs it from
# the repository root, and stops the services again only if it started them
# (a test run that was already using them keeps them).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
SERVICES=$SCRIPT_DIR/services.sh
SVC_ENV=${OSPREY_SERVICES_DIR:-$REPO/.cache/services}/env.sh
GO=${GO:-go}
BIN=$REPO/.cache/bench/osprey-bench

cd "$REPO"

started=0
if ! "$SERVICES" status >/dev/null 2>&1; then
  "$SERVICES" start
  started=1
fi
cleanup() {
  if [ "$started" = 1 ]; then "$SERVICES" stop || true; fi
}
trap cleanup EXIT

# shellcheck source=/dev/null
. "$SVC_ENV"

mkdir -p "$(dirname "$BIN")"
"$GO" build -o "$BIN" ./cmd/osprey-bench

cmdline="make bench"
if [ $# -gt 0 ]; then cmdline="deploy/scripts/bench.sh $*"; fi
"$BIN" -command "$cmdline" "$@"
