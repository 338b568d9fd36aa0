#!/usr/bin/env bash
# Runs the default program (Pulumi.yaml + index.ts) end to end on this machine, with nothing set up
# beforehand: `npm run up` / `npm run down`.
#
#   scripts/default-program.sh up      build examples/app for linux/amd64 + linux/arm64, print digests
#   scripts/default-program.sh down    destroy the stack (removes the builder it created)
#
# - Pulumi CLI: `pulumi` from PATH, else the engine scripts/pulumi-engine.sh builds (from source,
#   about 15 minutes the first time, cached after that; its command provider goes into a
#   PULUMI_HOME inside .pulumi-state/, so ~/.pulumi is not touched).
# - Backend: a local file backend in .pulumi-state/ (gitignored), unless PULUMI_BACKEND_URL is
#   set; no Pulumi Cloud account. Stack `dev`. Passphrase: PULUMI_CONFIG_PASSPHRASE, else empty.
# - Docker: if no Docker engine with buildx answers, the test environment (scripts/test-env.sh up,
#   as root on Debian) provides one. If Docker Hub is unreachable and the test environment is up,
#   the program is configured with its local copies of the base, toolchain, installer and BuildKit
#   images, as the tests do.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STACK=dev
STATE="$ROOT/.pulumi-state"
TESTENV_DIR="${BUILDX_TESTENV_DIR:-/var/lib/pulumi-buildx-testenv}"

say() { echo "[default-program] $*" >&2; }
die() { echo "[default-program] error: $*" >&2; exit 1; }

docker_ready() { docker info >/dev/null 2>&1 && docker buildx version >/dev/null 2>&1; }
testenv_up() { [[ -f "$TESTENV_DIR/env.sh" ]] && bash scripts/test-env.sh status >/dev/null 2>&1; }
use_testenv() {
    # shellcheck source=/dev/null
    source "$TESTENV_DIR/env.sh"
}

ensure_node_modules() {
    [[ -d node_modules/@pulumi/pulumi ]] && return
    say "installing npm dependencies (npm ci)"
    npm ci --no-audit --no-fund >&2
}

ensure_docker() {
    if testenv_up; then use_testenv; return; fi
    docker_ready && return
    [[ "$(id -u)" == 0 ]] || die "no Docker engine with buildx answers. Start one, or run as root so that 'bash scripts/test-env.sh up' can provide it."
    say "no Docker engine with buildx answers: starting the test environment (bash scripts/test-env.sh up)"
    bash scripts/test-env.sh up >&2
    use_testenv
}

ensure_pulumi() {
    export PULUMI_SKIP_UPDATE_CHECK=true
    if command -v pulumi >/dev/null 2>&1; then return; fi
    say "no pulumi on PATH: using the engine scripts/pulumi-engine.sh builds (from source, cached)"
    bash scripts/pulumi-engine.sh build >/dev/null
    eval "$(bash scripts/pulumi-engine.sh env)"
    export PULUMI_HOME="$STATE/home"
    mkdir -p "$PULUMI_HOME"
    bash scripts/pulumi-engine.sh plugins
}

select_stack() {
    mkdir -p "$STATE"
    export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$STATE}"
    export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
    export PULUMI_DIY_BACKEND_NO_LEGACY_WARNING=true
    pulumi stack select --create "$STACK" --secrets-provider passphrase --non-interactive >&2
}

docker_hub_reachable() { curl -sS -o /dev/null --max-time 5 https://registry-1.docker.io/v2/ 2>/dev/null; }

configure_images() {
    if docker_hub_reachable; then return; fi
    testenv_up || die "Docker Hub is unreachable and the test environment is not up. Run 'bash scripts/test-env.sh up' (local copies of the images), or set baseImage, goImage, binfmtImage and buildkitImage to images you can pull (see index.ts)."
    say "Docker Hub is unreachable: using the test environment's local images"
    npx --no-install ts-node --transpile-only scripts/default-program/local-images.ts >&2
}

up() {
    ensure_node_modules
    ensure_docker
    ensure_pulumi
    select_stack
    configure_images
    pulumi up --yes --non-interactive
    say "digests (pulumi stack output --json):"
    pulumi stack output --json
}

down() {
    ensure_node_modules
    [[ -d "$STATE" ]] || { say "nothing to destroy: $STATE does not exist"; return; }
    ensure_docker
    ensure_pulumi
    select_stack
    pulumi destroy --yes --non-interactive
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    *) die "usage: $0 up|down" ;;
esac
