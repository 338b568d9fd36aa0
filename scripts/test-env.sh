#!/usr/bin/env bash
# Test environment for pulumi-buildx: a Docker engine with the containerd image
# store and buildx, QEMU binfmt handlers, two TLS registries (one with basic
# auth) holding a multi-platform busybox base image, two test hosts
# (network namespaces on a bridge) each running buildkitd (mTLS) and sshd, and
# two EC2 stand-in hosts (sshd only, private /etc/buildkit and /run/buildkit)
# that a local ec2-user (passwordless sudo, group docker) logs in to.
#
#   scripts/test-env.sh up      provision and start everything (idempotent)
#   scripts/test-env.sh status  show each component; exit 1 if any is down
#   scripts/test-env.sh down    stop what `up` started, remove netns/bridge
#   scripts/test-env.sh current-pair  only the current buildx/BuildKit pair's
#                               steps (testenv/currentpair.sh), on an env that is up
#
# Run as root on Debian 12 or 13. State lives in $BUILDX_TESTENV_DIR
# (default /var/lib/pulumi-buildx-testenv); after `up` the tests read
# $BUILDX_TESTENV_DIR/env.json (or source env.sh).
# shellcheck source-path=SCRIPTDIR
set -Eeuo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# ---------------------------------------------------------------- layout ---
TESTENV_DIR=${BUILDX_TESTENV_DIR:-/var/lib/pulumi-buildx-testenv}
CACHE_DIR=$TESTENV_DIR/cache       # downloads and builds, keyed by version
PREFIX_DIR=$TESTENV_DIR/prefix     # trixie docker packages, dpkg -x'ed
BIN_DIR=$TESTENV_DIR/bin           # symlinks; goes first on PATH
RUN_DIR=$TESTENV_DIR/run           # pids, logs, generated configs, sockets
PKI_DIR=$TESTENV_DIR/pki
SSH_DIR=$TESTENV_DIR/ssh
AUTH_DIR=$TESTENV_DIR/auth
REGISTRY_DATA_DIR=$TESTENV_DIR/registry
NODES_DIR=$TESTENV_DIR/nodes
ENV_JSON=$TESTENV_DIR/env.json
ENV_SH=$TESTENV_DIR/env.sh
CLI_PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
# The bridge, namespaces and ports are machine-wide: one environment at a time.
OWNER_FILE=/run/pulumi-buildx-testenv.owner
# PATH of the daemons we start (not the caller's, whatever it holds)
DAEMON_PATH=$BIN_DIR:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# ------------------------------------------------------------ parameters ---
DEBIAN_MIRROR=${TESTENV_DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
BUILDKIT_VERSION=v0.16.0

BRIDGE=bxbr0
HOST_ADDR=10.213.77.1
PREFIX_LEN=24
CIDR=10.213.77.0/24
DOCKER_BIP=10.213.78.1/24  # docker0 (the engine's default bridge)
DOCKER_POOL=10.213.80.0/20 # user-defined docker networks

REGISTRY_PORT=5443
AUTH_REGISTRY_PORT=5444
REGISTRY_HOST=$HOST_ADDR:$REGISTRY_PORT
AUTH_REGISTRY_HOST=$HOST_ADDR:$AUTH_REGISTRY_PORT
AUTH_REGISTRY_USER=buildx
BASE_IMAGE=$REGISTRY_HOST/testenv/busybox:1

BUILDKITD_PORT=1234
NODE_NAMES=(node1 node2)
declare -A NODE_ADDR=([node1]=10.213.77.11 [node2]=10.213.77.12)
declare -A NODE_NETNS=([node1]=bx-node1 [node2]=bx-node2)

# EC2 stand-in hosts (ec2hosts.sh) and the EC2 user (ec2user.sh)
EC2_USER=ec2-user
EC2_HOSTS=(ec2a ec2b)
declare -A EC2_ADDR=([ec2a]=10.213.77.13 [ec2b]=10.213.77.14)
declare -A EC2_NETNS=([ec2a]=bx-ec2a [ec2b]=bx-ec2b)

# shellcheck source=testenv/lib.sh
. "$SCRIPT_DIR/testenv/lib.sh"
# shellcheck source=testenv/packages.sh
. "$SCRIPT_DIR/testenv/packages.sh"
# shellcheck source=testenv/qemu.sh
. "$SCRIPT_DIR/testenv/qemu.sh"
# shellcheck source=testenv/pki.sh
. "$SCRIPT_DIR/testenv/pki.sh"
# shellcheck source=testenv/network.sh
. "$SCRIPT_DIR/testenv/network.sh"
# shellcheck source=testenv/registry.sh
. "$SCRIPT_DIR/testenv/registry.sh"
# shellcheck source=testenv/docker.sh
. "$SCRIPT_DIR/testenv/docker.sh"
# shellcheck source=testenv/buildkit.sh
. "$SCRIPT_DIR/testenv/buildkit.sh"
# shellcheck source=testenv/sshd.sh
. "$SCRIPT_DIR/testenv/sshd.sh"
# shellcheck source=testenv/image.sh
. "$SCRIPT_DIR/testenv/image.sh"
# shellcheck source=testenv/toolchain.sh
. "$SCRIPT_DIR/testenv/toolchain.sh"
# shellcheck source=testenv/nodedocker.sh
. "$SCRIPT_DIR/testenv/nodedocker.sh"
# shellcheck source=testenv/envfile.sh
. "$SCRIPT_DIR/testenv/envfile.sh"
# shellcheck source=testenv/ec2user.sh
. "$SCRIPT_DIR/testenv/ec2user.sh"
# shellcheck source=testenv/ec2hosts.sh
. "$SCRIPT_DIR/testenv/ec2hosts.sh"
# shellcheck source=testenv/currentpair.sh
. "$SCRIPT_DIR/testenv/currentpair.sh"

OS_CODENAME=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")

# Refuse to act on an environment that another BUILDX_TESTENV_DIR brought up.
check_owner() {
  local owner
  [[ -s $OWNER_FILE ]] || return 0
  owner=$(<"$OWNER_FILE")
  [[ $owner == "$TESTENV_DIR" ]] ||
    die "the test environment is up for BUILDX_TESTENV_DIR=$owner ($OWNER_FILE); run down with that dir first (or remove $OWNER_FILE if it is stale)"
}

preflight() {
  ((EUID == 0)) || die "must run as root"
  check_owner
  echo "$TESTENV_DIR" >"$OWNER_FILE"
  [[ -r $DEBIAN_KEYRING ]] || die "$DEBIAN_KEYRING missing (debian-archive-keyring)"
  command -v apt-get >/dev/null || die "apt-get not found (Debian 12/13 expected)"
  mkdir -p "$TESTENV_DIR" "$CACHE_DIR" "$RUN_DIR/pids" "$RUN_DIR/logs"
  info "dir $TESTENV_DIR, Debian $OS_CODENAME"
}

cmd_up() {
  local t0=$EPOCHREALTIME
  run_step "preflight" preflight
  remove_env_files
  remove_current_pair_json
  run_step "system packages (apt)" install_system_packages
  run_step "docker packages from trixie (download)" fetch_trixie_debs
  run_step "docker packages from trixie (unpack)" unpack_prefix
  run_step "bin dir + buildx plugin link" link_bin_dir
  run_step "buildkit $BUILDKIT_VERSION (go install)" build_buildkit
  run_step "$EC2_USER: docker group, passwordless sudo" setup_ec2_user
  run_step "qemu binfmt handlers" setup_qemu
  run_step "PKI + CA trust" setup_pki
  run_step "network: bridge + namespaces" setup_network
  run_step "registries" setup_registries
  run_step "docker engine" setup_docker
  run_step "buildkitd on the nodes" setup_node_buildkitds
  run_step "sshd on the nodes" setup_node_sshds
  run_step "EC2 stand-in hosts (sshd, private /etc/buildkit + /run/buildkit)" setup_ec2_hosts
  run_step "base image $BASE_IMAGE" setup_base_image
  run_step "go toolchain image (from this machine's Go)" setup_toolchain_image
  run_step "docker engines on the nodes + BuildKit image" setup_node_dockers
  run_step "check: linux/arm64 RUN under emulation" check_emulated_run
  run_step "check: $EC2_USER reaches the node engines over ssh" check_ec2_user_on_nodes
  run_step "env.json + env.sh" write_env_files
  run_step "env.json: node docker engines" add_node_docker_env
  run_step "env.json: go toolchain image" add_toolchain_env
  run_step "env.json: EC2 stand-in hosts" add_ec2_env
  run_step "current pair: buildx $CURRENT_BUILDX_VERSION + buildkit $CURRENT_BUILDKIT_VERSION" setup_current_pair
  run_step "$CURRENT_PAIR_JSON" write_current_pair_json
  run_step "S3-compatible server (moto; s3.json)" "$SCRIPT_DIR/testenv/s3.sh" up
  print_step_times
  info "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%7.1fs", b - a }')  total"
  log "==> up: environment ready; source $ENV_SH (tests read $ENV_JSON)"
}

# Only the current pair's steps, on an environment that is up (what `up` runs last).
cmd_current_pair() {
  [[ -s $ENV_JSON ]] || die "$ENV_JSON missing: run \`$0 up\` first"
  run_step "preflight" preflight
  run_step "current pair: buildx $CURRENT_BUILDX_VERSION + buildkit $CURRENT_BUILDKIT_VERSION" setup_current_pair
  run_step "$CURRENT_PAIR_JSON" write_current_pair_json
  print_step_times
}

cmd_down() {
  ((EUID == 0)) || die "must run as root"
  check_owner
  run_step "remove env files" remove_env_files
  remove_current_pair_json
  run_step "stop sshd on the nodes" stop_node_sshds
  run_step "stop the EC2 stand-in hosts" stop_ec2_hosts
  run_step "stop docker engines on the nodes" stop_node_dockerds
  run_step "stop buildkitd on the nodes" stop_node_buildkitds
  run_step "stop the current pair's buildkitd on the nodes" stop_current_node_buildkitds
  run_step "stop docker engine" stop_dockerd
  run_step "stop the S3 server" "$SCRIPT_DIR/testenv/s3.sh" down
  run_step "stop registries" stop_registries
  run_step "remove namespaces, veths, bridge" teardown_network
  run_step "remove /etc/buildkit, /run/buildkit mount points" remove_ec2_mountpoints
  rm -rf "$RUN_DIR/pids"
  if [[ -d $RUN_DIR ]]; then
    find "$RUN_DIR" -type s -delete # sockets the daemons left behind
  fi
  rm -f "$OWNER_FILE"
  log "==> down: done (caches, PKI, registry data and logs kept in $TESTENV_DIR)"
}

# ---------------------------------------------------------------- status ---
STATUS_FAILED=0

# report NAME CMD...: print "up"/"DOWN" for NAME according to CMD.
report() {
  local name=$1
  shift
  if "$@" >/dev/null 2>&1; then
    printf '  %-4s  %s\n' up "$name"
  else
    printf '  %-4s  %s\n' DOWN "$name"
    STATUS_FAILED=1
  fi
}

daemon_line() { # NAME EXE: "NAME (pid N)" or just NAME
  local pid
  if pid=$(pid_of "$1" "$2"); then echo "$1 (pid $pid)"; else echo "$1"; fi
}

cmd_status() {
  local node name
  log "pulumi-buildx test environment ($TESTENV_DIR)"
  report "bin dir $BIN_DIR" test -x "$BIN_DIR/dockerd" -a -x "$BIN_DIR/buildkitd"
  report "buildx plugin $CLI_PLUGIN_DIR/docker-buildx" test -x "$CLI_PLUGIN_DIR/docker-buildx"
  for name in "${REQUIRED_BINFMTS[@]}"; do report "binfmt $name" binfmt_enabled "$name"; done
  report "bridge $BRIDGE ($HOST_ADDR)" link_exists "$BRIDGE"
  for node in "${NODE_NAMES[@]}"; do
    report "netns ${NODE_NETNS[$node]} (${NODE_ADDR[$node]})" netns_exists "${NODE_NETNS[$node]}"
  done
  report "$(daemon_line registry-main docker-registry) https://$REGISTRY_HOST" \
    registry_answers "$REGISTRY_HOST" 200
  report "$(daemon_line registry-auth docker-registry) https://$AUTH_REGISTRY_HOST" \
    registry_answers "$AUTH_REGISTRY_HOST" 401
  report "$(daemon_line dockerd dockerd) $DOCKER_HOST_URL" docker_answers
  for node in "${NODE_NAMES[@]}"; do
    report "$(daemon_line "buildkitd-$node" buildkitd) $(buildkitd_endpoint "$node")" \
      node_buildctl "$node" debug workers
    report "$(daemon_line "sshd-$node" sshd) ssh root@${NODE_ADDR[$node]}" ssh_to_node "$node" true
  done
  report "base image $BASE_IMAGE" base_image_complete
  status_toolchain_image
  status_node_dockers
  status_ec2_hosts
  report "env file $ENV_JSON" test -s "$ENV_JSON"
  status_current_pair
  report "env file $CURRENT_PAIR_JSON" test -s "$CURRENT_PAIR_JSON"
  "$SCRIPT_DIR/testenv/s3.sh" status || STATUS_FAILED=1
  return "$STATUS_FAILED"
}

usage() {
  echo "usage: $0 up|down|status|current-pair" >&2
  exit 2
}

main() {
  trap on_err ERR
  trap on_exit EXIT
  case ${1:-} in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status || exit 1 ;; # DOWN lines say what; no failure banner
    current-pair) cmd_current_pair ;;
    *) usage ;;
  esac
}

main "$@"
