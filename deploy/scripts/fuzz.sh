#!/usr/bin/env bash
# fuzz.sh: runs every Go fuzz target of the module briefly (FUZZTIME each, default 10s), as `make test`
# does. A crasher fails the run and is saved under the package's testdata/fuzz.
set -euo pipefail
cd "$(dirname "$0")/../.."
fuzztime=${FUZZTIME:-10s}
go=${GO:-go}
status=0
for pkg in $("$go" list ./... | grep -v /node_modules/); do
  dir=$("$go" list -f '{{.Dir}}' "$pkg")
  for fz in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    for attempt in 1 2 3; do
      echo "fuzz $pkg $fz ($fuzztime)"
      out=$(mktemp)
      if "$go" test -run '^$' -fuzz "^$fz\$" -fuzztime "$fuzztime" -fuzzminimizetime 1x "$pkg" 2>&1 | tee "$out"; then
        rm -f "$out"
        break
      fi
      # Go's fuzzing engine now and then ends a clean run with "context deadline exceeded" as its time
      # runs out (no input failed, none was written), more often on a loaded machine and with slow
      # targets (file I/O per input). Run such a target again, up to 3 runs in all; a real failure names
      # the input it wrote and is never retried. If all 3 end that way, the target's corpus (seeds and
      # testdata/fuzz) must still pass as a plain test with a deadline, so a hanging input is not hidden.
      if grep -q 'context deadline exceeded' "$out" && ! grep -q 'Failing input written' "$out"; then
        rm -f "$out"
        if [ "$attempt" -lt 3 ]; then
          echo "fuzz: $fz ended on the engine's deadline error, not on an input; running it again"
          continue
        fi
        echo "fuzz: $fz ended on the engine's deadline error 3 times with no failing input; replaying its corpus"
        if ! "$go" test -count=1 -timeout 120s -run "^$fz\$" "$pkg"; then
          status=1
        fi
        break
      fi
      rm -f "$out"
      status=1
      break
    done
  done
done
# The quorum simulations (static voter set, and dynamic with voter changes) with fresh random seeds
# and longer schedules than `go test` runs; a failure prints the seed and the command that replays it.
echo "quorum simulation: ${OSPREY_QUORUM_SIM_RUNS:-10} random seeds × ${OSPREY_QUORUM_SIM_STEPS:-50000} steps"
if ! OSPREY_QUORUM_SIM_STEPS=${OSPREY_QUORUM_SIM_STEPS:-50000} OSPREY_QUORUM_SIM_RUNS=${OSPREY_QUORUM_SIM_RUNS:-10} \
  "$go" test -count=1 -run '^TestQuorumSimulation(Dynamic)?$' ./broker/quorum; then
  status=1
fi
exit $status
