#!/usr/bin/env bash
# Preflight: every external command that the tests, the scripts they run (including the scripts our
# components generate) and the benchmarks call, checked before any test runs. Fails naming each
# missing command and the package that provides it. `scripts/test-env.sh up` installs them all; run
# this after sourcing its env.sh (the Docker engine, buildx and buildkitd live in its prefix).
#
#   bash scripts/preflight.sh          check; exit 1 listing what is missing
#   bash scripts/preflight.sh list     print the table (command, package, who uses it)
set -euo pipefail

# command | Debian package (or how it is provided) | used by
REQUIRED=$(cat <<'TABLE'
bash|bash|every script
node|the machine's Node.js 20|unit, integration and engine tests
npm|the machine's npm|test-all.sh, the consumer test
go|the machine's Go|scripts/pulumi-engine.sh, the toolchain image
git|git|context hashing tests
shellcheck|shellcheck|unit tests: every generated script is linted
ssh-keygen|openssh-client|unit tests (TLS provider double), test env keys
ssh|openssh-client|Builder ssh nodes, EC2 readiness over SSH, the remote-command harness
ssh-agent|openssh-client|integration test of ssh forwarding (a test agent)
ssh-add|openssh-client|integration test of ssh forwarding (the key, and ssh-add -l in the image)
ldd|libc-bin|integration test of ssh forwarding (ssh-add's libraries into the image)
printenv|coreutils|generated build scripts (secrets from { env })
sshd|openssh-server|netns test hosts and EC2 stand-ins
openssl|openssl|unit tests (TLS provider double), test env PKI
unshare|util-linux|simulated EC2 first boot
nsenter|util-linux|daemons inside the netns test hosts
setsid|util-linux|daemons of the test env
flock|util-linux|engine build lock, integration lock
mount|mount|binfmt_misc, simulated first boot
ip|iproute2|netns test hosts
curl|curl|registry checks, the test env
jq|jq|the test env's env.json
tar|tar|context hash benchmark and tests
sha256sum|coreutils|scripts, benchmarks
base64|coreutils|generated build scripts
timeout|coreutils|EC2 readiness script
mktemp|coreutils|generated scripts
sudo|sudo|ec2-user in the EC2 stand-ins
sg|login|EC2 readiness for ssh nodes (docker group)
update-binfmts|binfmt-support|QEMU handler registration
qemu-aarch64-static|qemu-user-static|arm64 builds on amd64
qemu-arm-static|qemu-user-static|arm/v7 builds
docker-registry|docker-registry|the two test registries
htpasswd|apache2-utils|the auth registry
docker|docker-cli (trixie, test env prefix)|every integration test
dockerd|docker.io (trixie, test env prefix)|the Docker engine
containerd|containerd (trixie, test env prefix)|the Docker engine
runc|runc|containers
buildkitd|go install github.com/moby/buildkit (test env)|netns BuildKit nodes
buildctl|go install github.com/moby/buildkit (test env)|EC2 readiness, node checks
TABLE
)

if [[ "${1:-check}" == list ]]; then
    while IFS='|' read -r cmd pkg users; do printf '%-20s %-48s %s\n' "$cmd" "$pkg" "$users"; done <<<"$REQUIRED"
    exit 0
fi

missing=()
while IFS='|' read -r cmd pkg users; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("  $cmd  (from: $pkg; used by: $users)")
done <<<"$REQUIRED"
# buildx is a docker CLI plugin, not a command of its own.
if command -v docker >/dev/null 2>&1 && ! docker buildx version >/dev/null 2>&1; then
    missing+=("  docker buildx  (from: docker-buildx (trixie, test env prefix); used by: every component)")
fi

if ((${#missing[@]} > 0)); then
    echo "preflight: ${#missing[@]} command(s) the tests need are missing:" >&2
    printf '%s\n' "${missing[@]}" >&2
    echo "preflight: run 'bash scripts/test-env.sh up' (it installs them), then source its env.sh" >&2
    exit 1
fi
echo "preflight: all $(printf '%s\n' "$REQUIRED" | wc -l) commands found, and docker buildx"
