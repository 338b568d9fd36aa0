# shellcheck shell=bash
# The Go toolchain image $GO_IMAGE: $BASE_IMAGE (busybox) plus this machine's
# own GOROOT, for the host's platform only, pushed to the plain registry. The
# sample app (examples/app) cross-compiles in a `FROM --platform=$BUILDPLATFORM`
# stage on it, so only the build platform's toolchain is needed. Tagged with
# the Go version, so a different Go on the machine gives a new image.

# Sets GO_IMAGE, GO_IMAGE_GOROOT and GO_IMAGE_PLATFORM from the machine's Go.
toolchain_image_params() {
  local go version
  go=$(ensure_go)
  version=$("$go" env GOVERSION)
  GO_IMAGE_GOROOT=$("$go" env GOROOT)
  GO_IMAGE_PLATFORM=linux/$("$go" env GOHOSTARCH)
  GO_IMAGE=$REGISTRY_HOST/testenv/golang:${version#go}
}

build_toolchain_image() {
  local ctx log
  ctx=$(mktemp -d "$RUN_DIR/go-image.XXXXXX")
  # GOROOT comes in as a named context (no copy of ~300 MB into a temp dir).
  cat >"$ctx/Dockerfile" <<'DOCKERFILE'
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY --from=goroot / /usr/local/go/
ENV PATH=/usr/local/go/bin:/usr/local/bin:/usr/bin:/bin \
    GOROOT=/usr/local/go GOTOOLCHAIN=local GOPATH=/go GOCACHE=/tmp/go-build \
    GOFLAGS=-buildvcs=false CGO_ENABLED=0
RUN go version
DOCKERFILE
  log=$RUN_DIR/logs/go-image-build.log
  info "building $GO_IMAGE ($GO_IMAGE_PLATFORM) from $GO_IMAGE_GOROOT"
  if ! dk buildx build --builder default --progress plain --provenance=false \
    --platform "$GO_IMAGE_PLATFORM" --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    --build-context "goroot=$GO_IMAGE_GOROOT" --push -t "$GO_IMAGE" "$ctx" >"$log" 2>&1; then
    rm -rf "$ctx"
    tail -n 30 "$log" >&2
    die "building/pushing $GO_IMAGE failed (full output: $log)"
  fi
  rm -rf "$ctx"
  grep -m1 'go version go' "$log" | sed 's/^/    | /' || true
}

setup_toolchain_image() {
  toolchain_image_params
  if registry_has_tag "$GO_IMAGE"; then
    info "$GO_IMAGE present"
  else
    build_toolchain_image
    registry_has_tag "$GO_IMAGE" || die "$GO_IMAGE is not in the registry after the push"
    info "pushed $GO_IMAGE"
  fi
}

# Adds goImage to $ENV_JSON. Runs after write_env_files.
add_toolchain_env() {
  local tmp=$ENV_JSON.tmp
  toolchain_image_params
  jq --arg image "$GO_IMAGE" '. + { goImage: $image }' "$ENV_JSON" >"$tmp"
  chmod 0600 "$tmp"
  mv "$tmp" "$ENV_JSON"
  info "env.json: goImage $GO_IMAGE"
}

status_toolchain_image() {
  local image=unknown
  if find_go >/dev/null && toolchain_image_params; then image=$GO_IMAGE; fi
  report "go toolchain image $image" registry_has_tag "$image"
}
