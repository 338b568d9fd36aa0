# shellcheck shell=bash
# The current buildx/BuildKit pair, side by side with the oldest supported one
# (Debian trixie's buildx 0.13.1 + buildkitd $BUILDKIT_VERSION, which stay the
# default). Nothing here changes what the other scripts install or start:
#
#   - buildx $CURRENT_BUILDX_VERSION, `go install`ed (cached per version), as
#     the only plugin of its own docker client config dir
#     ($CURRENT_PAIR_DIR/docker-config/cli-plugins/docker-buildx): the docker
#     CLI looks in DOCKER_CONFIG/cli-plugins before the system plugin dirs;
#   - buildkitd/buildctl $CURRENT_BUILDKIT_VERSION, built from the module the
#     Go proxy serves (`go install` refuses its `exclude` directives), cached
#     per version, linked into $CURRENT_PAIR_DIR/bin;
#   - the BuildKit image pulumi-buildx-testenv/buildkit:$CURRENT_BUILDKIT_VERSION
#     for the docker-container driver, in the main engine and the node engines;
#   - a second buildkitd per test host, on port $CURRENT_BUILDKITD_PORT, with
#     its own root, socket and otel socket (same certificates and config).
#
# Its facts go to $CURRENT_PAIR_JSON, which test/harness/testenv.ts reads when
# BUILDX_TESTENV_PAIR=current.

CURRENT_BUILDX_VERSION=v0.38.2
CURRENT_BUILDKIT_VERSION=v0.34.2
CURRENT_BUILDKITD_PORT=1235
CURRENT_PAIR_DIR=$TESTENV_DIR/pair-current
CURRENT_PAIR_JSON=$TESTENV_DIR/pair-current.json
CURRENT_BUILDX_CACHE=$CACHE_DIR/buildx-$CURRENT_BUILDX_VERSION
CURRENT_BUILDKIT_CACHE=$CACHE_DIR/buildkit-$CURRENT_BUILDKIT_VERSION
CURRENT_BUILDKIT_IMAGE=pulumi-buildx-testenv/buildkit:$CURRENT_BUILDKIT_VERSION

# go with private, writable caches under $CACHE_DIR (removed after a build).
current_go() {
  local go
  go=$(ensure_go)
  CGO_ENABLED=0 GOFLAGS=-modcacherw GOMODCACHE=$CACHE_DIR/go/mod \
    GOCACHE=$CACHE_DIR/go/build GOTOOLCHAIN=auto "$go" "$@"
}

build_current_buildx() {
  if [[ -x $CURRENT_BUILDX_CACHE/buildx ]]; then
    info "cached: $CURRENT_BUILDX_CACHE"
  else
    info "building buildx $CURRENT_BUILDX_VERSION"
    rm -rf "$CURRENT_BUILDX_CACHE.tmp"
    mkdir -p "$CURRENT_BUILDX_CACHE.tmp"
    GOBIN=$CURRENT_BUILDX_CACHE.tmp current_go install \
      -ldflags "-X github.com/docker/buildx/version.Version=$CURRENT_BUILDX_VERSION" \
      "github.com/docker/buildx/cmd/buildx@$CURRENT_BUILDX_VERSION"
    rm -rf "$CURRENT_BUILDX_CACHE"
    mv "$CURRENT_BUILDX_CACHE.tmp" "$CURRENT_BUILDX_CACHE"
  fi
}

build_current_buildkit() {
  local src ldflags
  if [[ -x $CURRENT_BUILDKIT_CACHE/buildkitd && -x $CURRENT_BUILDKIT_CACHE/buildctl ]]; then
    info "cached: $CURRENT_BUILDKIT_CACHE"
    return 0
  fi
  info "building buildkit $CURRENT_BUILDKIT_VERSION from its module"
  src=$(current_go mod download -json "github.com/moby/buildkit@$CURRENT_BUILDKIT_VERSION" | jq -er .Dir)
  rm -rf "$CACHE_DIR/go/buildkit-src" "$CURRENT_BUILDKIT_CACHE.tmp"
  cp -r "$src" "$CACHE_DIR/go/buildkit-src"
  chmod -R u+w "$CACHE_DIR/go/buildkit-src"
  mkdir -p "$CURRENT_BUILDKIT_CACHE.tmp"
  ldflags="-X github.com/moby/buildkit/version.Version=$CURRENT_BUILDKIT_VERSION"
  (cd "$CACHE_DIR/go/buildkit-src" &&
    current_go build -ldflags "$ldflags" -o "$CURRENT_BUILDKIT_CACHE.tmp/" ./cmd/buildkitd ./cmd/buildctl)
  rm -rf "$CURRENT_BUILDKIT_CACHE"
  mv "$CURRENT_BUILDKIT_CACHE.tmp" "$CURRENT_BUILDKIT_CACHE"
}

build_current_pair() {
  build_current_buildx
  build_current_buildkit
  rm -rf "$CACHE_DIR/go" # module/build cache, useless once built
  mkdir -p "$CURRENT_PAIR_DIR/bin" "$CURRENT_PAIR_DIR/docker-config/cli-plugins"
  ln -sfn "$CURRENT_BUILDX_CACHE/buildx" "$CURRENT_PAIR_DIR/docker-config/cli-plugins/docker-buildx"
  ln -sfn "$CURRENT_BUILDX_CACHE/buildx" "$CURRENT_PAIR_DIR/bin/docker-buildx"
  ln -sfn "$CURRENT_BUILDKIT_CACHE/buildkitd" "$CURRENT_PAIR_DIR/bin/buildkitd"
  ln -sfn "$CURRENT_BUILDKIT_CACHE/buildctl" "$CURRENT_PAIR_DIR/bin/buildctl"
  info "buildx: $(current_dk buildx version)"
  info "buildkitd: $("$CURRENT_PAIR_DIR/bin/buildkitd" --version 2>/dev/null)"
}

# current_dk ARGS...: dk (docker.sh) with the current pair's buildx plugin.
current_dk() {
  env -u DOCKER_CONTEXT -u BUILDX_BUILDER -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH \
    DOCKER_HOST="$DOCKER_HOST_URL" DOCKER_CONFIG="$CURRENT_PAIR_DIR/docker-config" \
    PATH="$CURRENT_PAIR_DIR/bin:$BIN_DIR:$PATH" "$BIN_DIR/docker" "$@"
}

# The BuildKit image of the current pair, imported like the oldest pair's
# (nodedocker.sh), from the current binaries.
setup_current_buildkit_image() {
  local node
  BUILDKIT_IMAGE=$CURRENT_BUILDKIT_IMAGE BUILDKIT_CACHE=$CURRENT_BUILDKIT_CACHE import_buildkit_image dk
  for node in "${NODE_DOCKER_NODES[@]}"; do
    BUILDKIT_IMAGE=$CURRENT_BUILDKIT_IMAGE BUILDKIT_CACHE=$CURRENT_BUILDKIT_CACHE import_buildkit_image node_dk "$node"
  done
}

current_buildkitd_endpoint() { printf 'tcp://%s:%s\n' "${NODE_ADDR[$1]}" "$CURRENT_BUILDKITD_PORT"; }
current_buildkitd_dir() { printf '%s\n' "$(node_run_dir "$1")/current"; }
current_buildkitd_root() { printf '%s\n' "$NODES_DIR/$1/buildkitd-$CURRENT_BUILDKIT_VERSION"; }

current_node_buildctl() {
  local node=$1
  shift
  buildctl_mtls "$CURRENT_PAIR_DIR/bin/buildctl" "$(current_buildkitd_endpoint "$node")" "$@"
}

# Same config file (registry CAs) and certificates as the node's first buildkitd.
start_current_node_buildkitd() {
  [[ -s $(node_run_dir "$1")/buildkitd.toml ]] || write_buildkitd_config "$1"
  start_buildkitd_in_node "$1" "buildkitd-current-$1" "$CURRENT_PAIR_DIR/bin" \
    "$(current_buildkitd_root "$1")" "$(current_buildkitd_dir "$1")" "$(current_buildkitd_endpoint "$1")"
}

setup_current_node_buildkitds() {
  local node
  for node in "${NODE_NAMES[@]}"; do start_current_node_buildkitd "$node"; done
}

stop_current_node_buildkitds() {
  local node
  for node in "${NODE_NAMES[@]}"; do stop_daemon "buildkitd-current-$node" buildkitd 30; done
}

setup_current_pair() {
  build_current_pair
  setup_current_buildkit_image
  setup_current_node_buildkitds
}

status_current_pair() {
  local node
  report "buildx $CURRENT_BUILDX_VERSION ($CURRENT_PAIR_DIR/docker-config)" current_dk buildx version
  report "buildkit image $CURRENT_BUILDKIT_IMAGE (main engine)" dk image inspect "$CURRENT_BUILDKIT_IMAGE"
  for node in "${NODE_NAMES[@]}"; do
    report "$(daemon_line "buildkitd-current-$node" buildkitd) $(current_buildkitd_endpoint "$node")" \
      current_node_buildctl "$node" debug workers
  done
}

# $CURRENT_PAIR_JSON: what the harness swaps into env.json for BUILDX_TESTENV_PAIR=current.
write_current_pair_json() {
  local node nodes="{}" tmp=$CURRENT_PAIR_JSON.tmp
  for node in "${NODE_NAMES[@]}"; do
    nodes=$(jq --arg n "$node" --arg endpoint "$(current_buildkitd_endpoint "$node")" \
      --arg socket "$(current_buildkitd_dir "$node")/buildkitd.sock" --arg root "$(current_buildkitd_root "$node")" \
      --argjson pid "$(pid_of "buildkitd-current-$node" buildkitd)" \
      '. + { ($n): { buildkitEndpoint: $endpoint, buildkitSocket: $socket, buildkitdRoot: $root, pid: $pid } }' <<<"$nodes")
  done
  jq -n --arg buildx "$CURRENT_BUILDX_VERSION" --arg buildkit "$CURRENT_BUILDKIT_VERSION" \
    --arg dockerConfig "$CURRENT_PAIR_DIR/docker-config" --arg path "$CURRENT_PAIR_DIR/bin" \
    --arg image "$CURRENT_BUILDKIT_IMAGE" --argjson nodes "$nodes" \
    --arg ec2Root "$NODES_DIR/ec2-buildkitd-$CURRENT_BUILDKIT_VERSION" \
    '{ name: "current", buildxVersion: $buildx, buildkitVersion: $buildkit, dockerConfig: $dockerConfig,
       path: $path, buildkitImage: $image, nodes: $nodes, ec2BuildkitdRootPrefix: $ec2Root }' >"$tmp"
  mv "$tmp" "$CURRENT_PAIR_JSON"
  info "wrote $CURRENT_PAIR_JSON"
}

remove_current_pair_json() { rm -f "$CURRENT_PAIR_JSON"; }
