#!/usr/bin/env bash
# Runs the unit suite N times (default 20) while a busy loop keeps one core fully loaded, as on a
# shared CI machine, and prints how many runs passed. Timing-dependent tests show up here.
#
#   bash scripts/unit-under-load.sh [RUNS]
#
# Each failing run's output is kept in $LOG_DIR (default: a temporary directory, printed).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-20}"
LOG_DIR="${LOG_DIR:-$(mktemp -d)}"
mkdir -p "$LOG_DIR"

busy() { while :; do :; done; }
busy &
BUSY=$!
trap 'kill "$BUSY" 2>/dev/null || true' EXIT

passed=0 failed=0
for ((i = 1; i <= RUNS; i++)); do
    if npm test --silent >"$LOG_DIR/run-$i.log" 2>&1; then
        passed=$((passed + 1))
        rm -f "$LOG_DIR/run-$i.log"
        echo "run $i/$RUNS: passed"
    else
        failed=$((failed + 1))
        echo "run $i/$RUNS: FAILED (log: $LOG_DIR/run-$i.log)"
        grep -E '^\s+[0-9]+\) ' "$LOG_DIR/run-$i.log" | head -n 5 || true
    fi
done
echo "under load: $passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
