# shellcheck shell=bash
# The main Docker engine (trixie's dockerd 26 from $PREFIX_DIR) on the default
# socket and data root, with the containerd image store, so the default
# `docker` buildx driver builds and pushes multi-platform images.

DOCKER_SOCK=/var/run/docker.sock
DOCKER_HOST_URL=unix://$DOCKER_SOCK

# docker CLI (ours) against our engine, with a private client config so the
# caller's ~/.docker (current builder, context, credentials) plays no part.
dk() {
  env -u DOCKER_CONTEXT -u BUILDX_BUILDER -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH \
    DOCKER_HOST="$DOCKER_HOST_URL" DOCKER_CONFIG="$RUN_DIR/docker-config" \
    PATH="$BIN_DIR:$PATH" "$BIN_DIR/docker" "$@"
}

write_daemon_json() {
  mkdir -p "$RUN_DIR/docker" "$RUN_DIR/docker-config"
  # iptables/ip-forward off: no NAT, no forwarding sysctl, containers reach only
  # this host. The default bridge uses the test range next to $BRIDGE's.
  # The socket's group is $DOCKER_GROUP (ec2user.sh), so $EC2_USER reaches
  # the engine without sudo, as on an EC2 VM.
  jq -n --arg pidfile "$RUN_DIR/docker/docker.pid" --arg bip "$DOCKER_BIP" \
    --arg pool "$DOCKER_POOL" --arg group "$DOCKER_GROUP" '{
      features: { "containerd-snapshotter": true },
      pidfile: $pidfile,
      group: $group,
      iptables: false,
      "ip-forward": false,
      bip: $bip,
      "default-address-pools": [ { base: $pool, size: 24 } ]
    }' >"$RUN_DIR/docker/daemon.json"
}

docker_answers() { dk version --format '{{.Server.Version}}'; }

# Fails if something that is not ours already serves the default socket.
check_foreign_dockerd() {
  if ! pid_of dockerd dockerd >/dev/null && [[ -S $DOCKER_SOCK ]] &&
    curl -s --max-time 2 --unix-socket "$DOCKER_SOCK" http://d/_ping >/dev/null; then
    die "a Docker engine not started by this script already answers on $DOCKER_SOCK; stop it first"
  fi
}

start_dockerd() {
  check_foreign_dockerd
  if ! pid_of dockerd dockerd >/dev/null; then write_daemon_json; fi
  # dockerd finds containerd, the shim, runc, docker-init and docker-proxy on PATH.
  start_daemon dockerd dockerd env PATH="$DAEMON_PATH" "$BIN_DIR/dockerd" \
    --config-file "$RUN_DIR/docker/daemon.json" -H "$DOCKER_HOST_URL"
  wait_daemon dockerd dockerd 90 docker_answers
  ensure_socket_group "$DOCKER_SOCK"
}

# ensure_socket_group SOCKET: the engine socket belongs to $DOCKER_GROUP (an
# engine started before its daemon.json said so, or before the group existed,
# created it root:root).
ensure_socket_group() {
  [[ "$(stat -c %G "$1")" == "$DOCKER_GROUP" ]] && return 0
  info "chgrp $DOCKER_GROUP $1"
  chgrp "$DOCKER_GROUP" "$1"
  chmod 0660 "$1"
}

verify_docker() {
  local version driver
  version=$(dk version --format '{{.Server.Version}}')
  driver=$(dk info --format '{{.Driver}}')
  info "dockerd $version, storage driver $driver"
  [[ ${version%%.*} -ge 26 ]] || die "dockerd $version is older than 26"
  # With the containerd image store the driver is a snapshotter ("overlayfs"),
  # with the classic store it would be "overlay2".
  [[ $driver != overlay2 ]] || die "containerd image store is not enabled"
  # buildx must be found through the system plugin dir, whatever DOCKER_CONFIG is.
  local tmpcfg
  tmpcfg=$(mktemp -d)
  DOCKER_CONFIG=$tmpcfg PATH="$BIN_DIR:$PATH" "$BIN_DIR/docker" buildx version |
    sed 's/^/    /'
  rm -rf "$tmpcfg"
}

setup_docker() {
  start_dockerd
  verify_docker
}

stop_dockerd() {
  stop_daemon dockerd dockerd 60
  # dockerd leaves its default bridge behind (delete it only if no engine,
  # ours or not, still uses it).
  if pid_of dockerd dockerd >/dev/null ||
    curl -s --max-time 2 --unix-socket "$DOCKER_SOCK" http://d/_ping >/dev/null 2>&1; then
    return 0
  fi
  if ip link show docker0 >/dev/null 2>&1 &&
    ip -4 addr show dev docker0 | grep -q "inet ${DOCKER_BIP}"; then
    info "deleting docker0"
    ip link del docker0
  fi
}
