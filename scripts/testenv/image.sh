# shellcheck shell=bash
# The multi-platform base image $BASE_IMAGE: FROM scratch + Debian's static
# busybox (amd64, arm64, armhf) with applet symlinks, built by the main
# engine's default `docker` builder and pushed to the plain registry.

BASE_PLATFORMS=(linux/amd64 linux/arm64 linux/arm/v7)
declare -A BUSYBOX_DEB_ARCH=([amd64]=amd64 [arm64]=arm64 [armv7]=armhf)

# Platforms of $BASE_IMAGE in the registry, one per line (nothing if absent).
base_image_platforms() {
  registry_manifest "$BASE_IMAGE" |
    jq -r '.manifests[]?.platform | select(. != null)
           | "\(.os)/\(.architecture)\(if .variant then "/" + .variant else "" end)"' |
    sort
}

base_image_complete() {
  local have want
  have=$(base_image_platforms) || return 1
  want=$(printf '%s\n' "${BASE_PLATFORMS[@]}" | sort)
  [[ $have == "$want" ]]
}

# Download busybox-static for the three architectures (cached debs).
fetch_busybox_debs() {
  local debs=$CACHE_DIR/debs/busybox arch missing=()
  mkdir -p "$debs"
  for arch in "${BUSYBOX_DEB_ARCH[@]}"; do
    compgen -G "$debs/busybox-static_*_$arch.deb" >/dev/null || missing+=("busybox-static:$arch")
  done
  if ((${#missing[@]} == 0)); then
    info "cached: $(cd "$debs" && echo ./*.deb)"
    return 0
  fi
  info "downloading ${missing[*]} ($OS_CODENAME)"
  apt_private "$CACHE_DIR/apt-busybox" "$OS_CODENAME" amd64,arm64,armhf update
  (cd "$debs" && apt_private "$CACHE_DIR/apt-busybox" "$OS_CODENAME" amd64,arm64,armhf download "${missing[@]}")
}

# Build context: rootfs-<TARGETARCH><TARGETVARIANT>/ per platform.
make_base_context() {
  local ctx=$1 debs=$CACHE_DIR/debs/busybox key deb root tmp applet
  for key in "${!BUSYBOX_DEB_ARCH[@]}"; do
    deb=$(compgen -G "$debs/busybox-static_*_${BUSYBOX_DEB_ARCH[$key]}.deb" | head -n1)
    tmp=$ctx/deb-$key
    root=$ctx/rootfs-$key
    dpkg -x "$deb" "$tmp"
    mkdir -p "$root/bin" "$root/usr/bin" "$root/etc" "$root/root" "$root/tmp"
    chmod 1777 "$root/tmp"
    install -m 0755 "$tmp/bin/busybox" "$root/bin/busybox"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  done
  # Applet names from the amd64 binary (same busybox version on every arch).
  for applet in $("$ctx/rootfs-amd64/bin/busybox" --list); do
    [[ $applet == busybox ]] && continue
    for key in "${!BUSYBOX_DEB_ARCH[@]}"; do
      ln -sf busybox "$ctx/rootfs-$key/bin/$applet"
    done
  done
  for key in "${!BUSYBOX_DEB_ARCH[@]}"; do
    ln -sf ../../bin/busybox "$ctx/rootfs-$key/usr/bin/env"
    rm -rf "$ctx/deb-$key"
  done
  cat >"$ctx/Dockerfile" <<'EOF'
FROM scratch
ARG TARGETARCH
ARG TARGETVARIANT
COPY rootfs-${TARGETARCH}${TARGETVARIANT}/ /
CMD ["/bin/sh"]
EOF
}

build_base_image() {
  local ctx platforms log
  ctx=$(mktemp -d "$RUN_DIR/base-image.XXXXXX")
  make_base_context "$ctx"
  platforms=$(IFS=, && echo "${BASE_PLATFORMS[*]}")
  info "building $BASE_IMAGE for $platforms"
  log=$RUN_DIR/logs/base-image-build.log
  if ! dk buildx build --builder default --progress plain --provenance=false \
    --platform "$platforms" --push -t "$BASE_IMAGE" "$ctx" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "building/pushing $BASE_IMAGE failed (full output: $log)"
  fi
  tail -n 4 "$log" | sed 's/^/    | /'
  rm -rf "$ctx"
}

# Quick check that emulation works for a RUN step: linux/arm64 must say aarch64.
check_emulated_run() {
  local ctx out
  # A context dir, not a Dockerfile on stdin: buildx 0.13 leaves a temp dir
  # in /tmp behind for every stdin Dockerfile.
  ctx=$(mktemp -d "$RUN_DIR/arm64-check.XXXXXX")
  printf 'FROM %s\nRUN uname -m\n' "$BASE_IMAGE" >"$ctx/Dockerfile"
  if ! out=$(dk buildx build --builder default --progress plain --no-cache \
    --output type=cacheonly --platform linux/arm64 "$ctx" 2>&1); then
    rm -rf "$ctx"
    printf '%s\n' "$out" | tail -n 20 >&2
    die "linux/arm64 RUN step failed"
  fi
  rm -rf "$ctx"
  grep -q aarch64 <<<"$out" || {
    printf '%s\n' "$out" | tail -n 20 >&2
    die "linux/arm64 RUN step did not print aarch64"
  }
  info "linux/arm64 RUN uname -m: aarch64"
}

setup_base_image() {
  if base_image_complete; then
    info "$BASE_IMAGE present ($(base_image_platforms | paste -sd' '))"
  else
    fetch_busybox_debs
    build_base_image
    base_image_complete || die "$BASE_IMAGE is not in the registry with ${BASE_PLATFORMS[*]} after the push"
    info "pushed $BASE_IMAGE ($(base_image_platforms | paste -sd' '))"
  fi
}
