# shellcheck shell=bash
# A Docker engine of its own on some test hosts ($NODE_DOCKER_NODES), so that
# buildx's docker-container driver can reach them as ssh://root@ADDR (sshd's
# SetEnv points DOCKER_HOST at that engine), and a BuildKit image built here
# with no pulls: FROM scratch + the go-installed buildkitd/buildctl + Debian's
# runc with the libraries ldd lists + static busybox. The image is imported
# into each node engine and into the main engine (for a local node).
#
# Each node engine has its own config file, data-root, exec-root, pid file and
# unix socket, no bridge (containers use network=host, i.e. the namespace's
# network), no iptables, and its own containerd namespaces. Its socket's group
# is $DOCKER_GROUP, so $EC2_USER reaches it over ssh without sudo.

NODE_DOCKER_NODES=(node2)
BUILDKIT_IMAGE=pulumi-buildx-testenv/buildkit:$BUILDKIT_VERSION

node_docker_dir() { printf '%s\n' "$(node_run_dir "$1")/docker"; }
node_docker_sock() { printf '%s\n' "$(node_run_dir "$1")/docker.sock"; }
node_docker_host() { printf 'unix://%s\n' "$(node_docker_sock "$1")"; }
node_docker_root() { printf '%s\n' "$NODES_DIR/$1/docker"; }

has_node_docker() {
  local n
  for n in "${NODE_DOCKER_NODES[@]}"; do [[ $n == "$1" ]] && return 0; done
  return 1
}

# For sshd.sh: extra SetEnv assignments of a node (nothing for a node without
# its own engine; its sessions keep the host's default socket).
node_docker_setenv() {
  if has_node_docker "$1"; then printf ' DOCKER_HOST=%s' "$(node_docker_host "$1")"; fi
}

# node_dk NODE ARGS...: our docker CLI against NODE's engine.
node_dk() {
  local node=$1
  shift
  env -u DOCKER_CONTEXT -u BUILDX_BUILDER -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH \
    DOCKER_HOST="$(node_docker_host "$node")" DOCKER_CONFIG="$RUN_DIR/docker-config" \
    PATH="$BIN_DIR:$PATH" "$BIN_DIR/docker" "$@"
}

node_docker_answers() { node_dk "$1" version --format '{{.Server.Version}}'; }

write_node_daemon_json() {
  local node=$1 dir
  dir=$(node_docker_dir "$node")
  mkdir -p "$dir" "$(node_docker_root "$node")" "$RUN_DIR/docker-config"
  jq -n --arg root "$(node_docker_root "$node")" --arg exec "$dir/exec" \
    --arg pidfile "$dir/docker.pid" --arg host "$(node_docker_host "$node")" \
    --arg group "$DOCKER_GROUP" '{
      "data-root": $root,
      "exec-root": $exec,
      pidfile: $pidfile,
      hosts: [ $host ],
      group: $group,
      bridge: "none",
      iptables: false,
      "ip-forward": false,
      "ip-masq": false,
      "userland-proxy": false
    }' >"$dir/daemon.json"
}

start_node_dockerd() {
  local node=$1 sock
  sock=$(node_docker_sock "$node")
  ((${#sock} < 100)) || die "socket path too long for a unix socket: $sock"
  if ! pid_of "dockerd-$node" dockerd >/dev/null; then write_node_daemon_json "$node"; fi
  start_daemon "dockerd-$node" dockerd \
    nsenter --net="/var/run/netns/${NODE_NETNS[$node]}" \
    env PATH="$DAEMON_PATH" "$BIN_DIR/dockerd" \
    --config-file "$(node_docker_dir "$node")/daemon.json" \
    --containerd-namespace "bx-$node" --containerd-plugins-namespace "bx-$node-plugins"
  wait_daemon "dockerd-$node" dockerd 90 node_docker_answers "$node"
  ensure_socket_group "$sock"
}

# The image's root file system in DIR.
make_buildkit_rootfs() {
  local root=$1 deb lib applet runc
  runc=$(command -v runc) || die "runc not found"
  mkdir -p "$root/usr/bin" "$root/bin" "$root/etc/buildkit" "$root/var/lib/buildkit" \
    "$root/run" "$root/tmp" "$root/root" "$root/proc" "$root/sys" "$root/dev"
  chmod 1777 "$root/tmp"
  install -m 0755 "$BUILDKIT_CACHE/buildkitd" "$BUILDKIT_CACHE/buildctl" "$root/usr/bin/"
  install -m 0755 "$runc" "$root/usr/bin/runc"
  # runc's shared libraries and the loader, at the paths ldd reports.
  for lib in $(ldd "$runc" | grep -o '/[^ ]*'); do
    mkdir -p "$root${lib%/*}"
    cp -L "$lib" "$root$lib"
  done
  deb=$(compgen -G "$CACHE_DIR/debs/busybox/busybox-static_*_amd64.deb" | head -n1)
  [[ -n $deb ]] || die "no cached busybox-static amd64 deb"
  dpkg -x "$deb" "$root/.busybox"
  install -m 0755 "$root/.busybox/bin/busybox" "$root/bin/busybox"
  rm -rf "$root/.busybox"
  for applet in $("$root/bin/busybox" --list); do
    [[ $applet == busybox || -e $root/bin/$applet ]] || ln -s busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\n' >"$root/etc/group"
}

# import_buildkit_image DK...: import the image with the docker CLI command DK
# (dk, or node_dk NODE) unless that engine has it already.
import_buildkit_image() {
  local root
  if "$@" image inspect "$BUILDKIT_IMAGE" >/dev/null 2>&1; then
    info "$BUILDKIT_IMAGE present ($*)"
    return 0
  fi
  root=$(mktemp -d "$RUN_DIR/buildkit-image.XXXXXX")
  make_buildkit_rootfs "$root"
  tar -C "$root" -c . | "$@" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENTRYPOINT ["buildkitd"]' - "$BUILDKIT_IMAGE" >/dev/null
  rm -rf "$root"
  info "imported $BUILDKIT_IMAGE ($*)"
}

setup_node_dockers() {
  local node
  fetch_busybox_debs
  import_buildkit_image dk
  for node in "${NODE_DOCKER_NODES[@]}"; do
    start_node_dockerd "$node"
    import_buildkit_image node_dk "$node"
  done
}

stop_node_dockerds() {
  local node
  for node in "${NODE_DOCKER_NODES[@]}"; do stop_daemon "dockerd-$node" dockerd 60; done
}

status_node_dockers() {
  local node
  report "buildkit image $BUILDKIT_IMAGE (main engine)" dk image inspect "$BUILDKIT_IMAGE"
  for node in "${NODE_DOCKER_NODES[@]}"; do
    report "$(daemon_line "dockerd-$node" dockerd) $(node_docker_host "$node")" node_docker_answers "$node"
    report "buildkit image $BUILDKIT_IMAGE ($node engine)" node_dk "$node" image inspect "$BUILDKIT_IMAGE"
    # shellcheck disable=SC2016 # $DOCKER_HOST is the remote session's
    report "ssh root@${NODE_ADDR[$node]} reaches the $node engine" \
      ssh_to_node "$node" 'test "$DOCKER_HOST" = '"$(node_docker_host "$node")"' && docker version'
  done
}

# Adds to $ENV_JSON: buildkitImage, and nodes[].docker = { host, buildkitImage }
# for the nodes with their own engine. Runs after write_env_files.
add_node_docker_env() {
  local node tmp=$ENV_JSON.tmp json
  json=$(jq --arg image "$BUILDKIT_IMAGE" '. + { buildkitImage: $image }' "$ENV_JSON")
  for node in "${NODE_DOCKER_NODES[@]}"; do
    json=$(jq --arg name "$node" --arg host "$(node_docker_host "$node")" --arg image "$BUILDKIT_IMAGE" \
      --argjson pid "$(pid_of "dockerd-$node" dockerd)" \
      '.nodes |= map(if .name == $name then . + { docker: { host: $host, buildkitImage: $image, pid: $pid } } else . end)' \
      <<<"$json")
  done
  printf '%s\n' "$json" >"$tmp"
  chmod 0600 "$tmp"
  mv "$tmp" "$ENV_JSON"
  info "env.json: docker engines on ${NODE_DOCKER_NODES[*]}, buildkit image $BUILDKIT_IMAGE"
}
