#!/usr/bin/env bash
# Runs every test on a fresh Debian 12/13 machine, as root:
#   1. provisions and starts the real test environment (scripts/test-env.sh up);
#   2. installs npm dependencies (npm ci), type-checks and builds the package;
#   3. unit tests, then integration tests against the environment: all of them on the current
#      buildx/BuildKit pair, the version-dependent ones also on the oldest supported pair;
#   4. the real Pulumi engine (built from source, cached) running the default program, `npm run up`
#      and `npm run down`, a remote builder and Binfmt.
# Prints the time each step took. This is the command README and .ci/run use.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -a TIMINGS=()
step() {
    local name="$1"; shift
    local start=$SECONDS
    echo "==> [test-all] $name"
    if ! "$@"; then
        echo "!!! [test-all] step failed: $name" >&2
        print_timings
        echo "tests: $PASSED passed, $FAILED failed, $SKIPPED skipped"
        exit 1
    fi
    TIMINGS+=("$(printf '%-28s %5ss' "$name" $((SECONDS - start)))")
}
# Test steps: output is also kept, so the mocha counts can be added up for the closing summary.
PASSED=0 FAILED=0 SKIPPED=0
COUNTS_LOG=$(mktemp)
trap 'rm -f "$COUNTS_LOG"' EXIT
tests() {
    : >"$COUNTS_LOG"
    "$@" 2>&1 | tee "$COUNTS_LOG"
    local rc=${PIPESTATUS[0]} n
    n=$(sed -n 's/^ *\([0-9]\+\) passing.*/\1/p' "$COUNTS_LOG" | tail -n 1); PASSED=$((PASSED + ${n:-0}))
    n=$(sed -n 's/^ *\([0-9]\+\) failing.*/\1/p' "$COUNTS_LOG" | tail -n 1); FAILED=$((FAILED + ${n:-0}))
    n=$(sed -n 's/^ *\([0-9]\+\) pending.*/\1/p' "$COUNTS_LOG" | tail -n 1); SKIPPED=$((SKIPPED + ${n:-0}))
    # The consumer test's own summary line.
    n=$(sed -n 's/^consumer: \([0-9]\+\) passed, [0-9]\+ failed$/\1/p' "$COUNTS_LOG" | tail -n 1); PASSED=$((PASSED + ${n:-0}))
    n=$(sed -n 's/^consumer: [0-9]\+ passed, \([0-9]\+\) failed$/\1/p' "$COUNTS_LOG" | tail -n 1); FAILED=$((FAILED + ${n:-0}))
    return "$rc"
}
print_timings() {
    echo "==> [test-all] timings"
    local t
    for t in "${TIMINGS[@]}"; do echo "    $t"; done
}

step "test environment up" bash scripts/test-env.sh up
ENV_SH="${BUILDX_TESTENV_DIR:-/var/lib/pulumi-buildx-testenv}/env.sh"
# shellcheck source=/dev/null
source "$ENV_SH"
# Every external command the tests, scripts and benchmarks call, before any test runs.
step "preflight" bash scripts/preflight.sh
step "npm ci" npm ci --no-audit --no-fund
step "typecheck" npm run --silent typecheck
step "lint (eslint + prettier)" npm run --silent lint
step "build" npm run --silent build
step "typecheck examples" npm run --silent typecheck:examples
step "API docs (no warnings)" npm run --silent docs
step "unit tests" tests npm test --silent
step "consumer test" tests bash scripts/consumer-test.sh
# The integration suite on the current buildx/BuildKit pair, then the tests whose behaviour depends
# on the buildx/BuildKit version again on the oldest supported pair (CONTRIBUTING.md, "Test matrix").
step "integration tests (current pair)" tests env BUILDX_TESTENV_PAIR=current npm run --silent test:integration
step "integration tests (oldest pair, versioned)" tests env BUILDX_TESTENV_PAIR=oldest npm run --silent test:integration:versioned
# The real Pulumi engine: the CLI from the Go module proxy and the upstream language host and
# command provider from ../shared/vendor, cached on disk (~20 min cold).
step "pulumi engine build" bash scripts/pulumi-engine.sh build
step "engine tests" tests npm run --silent test:engine
print_timings
echo "tests: $PASSED passed, $FAILED failed, $SKIPPED skipped"
