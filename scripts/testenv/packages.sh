# shellcheck shell=bash
# Packages: the system's own apt packages, the Docker engine/CLI/buildx from
# Debian trixie unpacked into a private prefix, and the bin dir put on PATH.

# From the machine's own suite (bookworm or trixie), installed with apt.
SYSTEM_PACKAGES=(
  ca-certificates curl jq openssl iproute2 util-linux iputils-ping
  runc tini                      # dockerd's runtime and docker-init (tini-static)
  qemu-user-static binfmt-support
  docker-registry apache2-utils  # registry 2.8 + htpasswd (bcrypt)
  openssh-server openssh-client
  sudo                           # ec2-user's passwordless sudo (ec2user.sh)
  shellcheck                     # the unit tests lint every generated script
  git                            # context-hash tests
)

# From trixie, fetched with apt-get download and unpacked with dpkg -x (they
# need only glibc 2.34; runc and tini from trixie would need 2.38, so those
# come from the system above). Never installed into the system.
TRIXIE_PACKAGES=(docker.io docker-cli containerd docker-buildx)

install_system_packages() {
  apt_install "${SYSTEM_PACKAGES[@]}"
}

# Prints the cached .deb for package $1 in $2 (empty if none).
cached_deb() {
  local f
  for f in "$2/$1"_*.deb; do
    [[ -e $f ]] && printf '%s\n' "$f"
  done
  return 0
}

fetch_trixie_debs() {
  local debs=$CACHE_DIR/debs/trixie p missing=()
  mkdir -p "$debs"
  for p in "${TRIXIE_PACKAGES[@]}"; do
    [[ -n "$(cached_deb "$p" "$debs")" ]] || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    info "cached: $(cd "$debs" && echo ./*.deb)"
    return 0
  fi
  info "downloading from trixie: ${missing[*]}"
  apt_private "$CACHE_DIR/apt-trixie" trixie amd64 update
  (cd "$debs" && apt_private "$CACHE_DIR/apt-trixie" trixie amd64 download "${missing[@]}")
}

# Unpack the trixie debs into $PREFIX_DIR (again only if the set changed).
unpack_prefix() {
  local debs=$CACHE_DIR/debs/trixie stamp p f want=""
  for p in "${TRIXIE_PACKAGES[@]}"; do
    f=$(cached_deb "$p" "$debs")
    [[ -n $f ]] || die "no cached deb for $p"
    want+="${f##*/}"$'\n'
  done
  stamp=$PREFIX_DIR/.unpacked-debs
  if [[ -f $stamp && "$(<"$stamp")"$'\n' == "$want" ]]; then
    info "prefix up to date: $PREFIX_DIR"
    return 0
  fi
  info "unpacking into $PREFIX_DIR"
  rm -rf "$PREFIX_DIR"
  mkdir -p "$PREFIX_DIR"
  for p in "${TRIXIE_PACKAGES[@]}"; do
    dpkg -x "$(cached_deb "$p" "$debs")" "$PREFIX_DIR"
  done
  printf '%s' "$want" >"$stamp"
}

# $BIN_DIR: the directory put first on PATH. Symlinks only.
link_bin_dir() {
  local -A links=(
    [docker]=$PREFIX_DIR/usr/bin/docker
    [dockerd]=$PREFIX_DIR/usr/sbin/dockerd
    [docker-proxy]=$PREFIX_DIR/usr/sbin/docker-proxy
    [docker-init]=/usr/bin/tini-static
    [docker-buildx]=$PREFIX_DIR/usr/libexec/docker/cli-plugins/docker-buildx
    [containerd]=$PREFIX_DIR/usr/bin/containerd
    [containerd-shim-runc-v2]=$PREFIX_DIR/usr/bin/containerd-shim-runc-v2
    [ctr]=$PREFIX_DIR/usr/bin/ctr
    [runc]=$(command -v runc)
  )
  local name
  mkdir -p "$BIN_DIR"
  for name in "${!links[@]}"; do
    [[ -x ${links[$name]} ]] || die "missing executable ${links[$name]}"
    ln -sfn "${links[$name]}" "$BIN_DIR/$name"
  done
  link_buildx_plugin
  info "bin dir: $BIN_DIR ($(cd "$BIN_DIR" && echo *))"
}

# The docker CLI looks for plugins in DOCKER_CONFIG/cli-plugins and in system
# directories; a symlink in the first system directory makes buildx work even
# when DOCKER_CONFIG points at a throw-away directory.
link_buildx_plugin() {
  local link=$CLI_PLUGIN_DIR/docker-buildx
  local target=$PREFIX_DIR/usr/libexec/docker/cli-plugins/docker-buildx
  mkdir -p "$CLI_PLUGIN_DIR"
  if [[ -e $link && ! -L $link ]]; then
    warn "$link exists and is not a symlink; leaving it alone"
    return 0
  fi
  ln -sfn "$target" "$link"
}
