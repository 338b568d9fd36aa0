# shellcheck shell=bash
# QEMU user emulation registered with binfmt_misc (needed for RUN steps of
# foreign platforms). Must run before dockerd/buildkitd start: BuildKit
# detects the emulated platforms when its worker starts.

BINFMT_DIR=/proc/sys/fs/binfmt_misc
REQUIRED_BINFMTS=(qemu-aarch64 qemu-arm)

# binfmt handler name -> platform
declare -A BINFMT_PLATFORMS=(
  [qemu-aarch64]=linux/arm64
  [qemu-arm]=linux/arm/v7
  [qemu-i386]=linux/386
  [qemu-ppc64le]=linux/ppc64le
  [qemu-s390x]=linux/s390x
  [qemu-riscv64]=linux/riscv64
  [qemu-mips64el]=linux/mips64le
  [qemu-loongarch64]=linux/loong64
)

mount_binfmt_misc() {
  if mountpoint -q "$BINFMT_DIR"; then
    info "$BINFMT_DIR already mounted"
  else
    info "mounting binfmt_misc on $BINFMT_DIR"
    mount -t binfmt_misc binfmt_misc "$BINFMT_DIR"
  fi
}

binfmt_enabled() {
  [[ -f $BINFMT_DIR/$1 && "$(head -n1 "$BINFMT_DIR/$1")" == enabled ]]
}

# Register the qemu-* handlers only (not every format binfmt-support knows).
register_qemu_binfmts() {
  local f name conf
  if compgen -G '/usr/share/binfmts/qemu-*' >/dev/null; then
    for f in /usr/share/binfmts/qemu-*; do
      name=${f##*/}
      binfmt_enabled "$name" && continue
      info "update-binfmts --enable $name"
      update-binfmts --enable "$name"
    done
  elif compgen -G '/usr/lib/binfmt.d/qemu-*.conf' >/dev/null; then
    # Newer Debian (qemu-user-binfmt) ships systemd-binfmt files instead.
    for conf in /usr/lib/binfmt.d/qemu-*.conf; do
      name=$(basename "$conf" .conf)
      binfmt_enabled "$name" && continue
      info "registering $name from $conf"
      grep -v '^[#;]' "$conf" | grep . >"$BINFMT_DIR/register"
    done
  else
    die "no qemu binfmt definitions found (/usr/share/binfmts or /usr/lib/binfmt.d)"
  fi
}

verify_binfmts() {
  local name
  for name in "${REQUIRED_BINFMTS[@]}"; do
    binfmt_enabled "$name" || die "$BINFMT_DIR/$name is missing or disabled"
    # F (fix-binary): the interpreter is opened now, so it also works inside
    # containers whose root file system has no qemu.
    grep -q '^flags:.*F' "$BINFMT_DIR/$name" || die "$name is registered without the F flag"
  done
  info "emulated platforms: $(binfmt_platforms | paste -sd' ')"
}

# Prints one platform per line for the enabled qemu handlers.
binfmt_platforms() {
  local name
  for name in "${!BINFMT_PLATFORMS[@]}"; do
    binfmt_enabled "$name" && printf '%s\n' "${BINFMT_PLATFORMS[$name]}"
  done | sort
}

setup_qemu() {
  mount_binfmt_misc
  register_qemu_binfmts
  verify_binfmts
}
