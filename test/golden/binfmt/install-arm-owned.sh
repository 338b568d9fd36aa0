set -euo pipefail
export LC_ALL=C
image=tonistiigi/binfmt:qemu-v10.2.3@sha256:400a4873b838d1b89194d982c45e5fb3cda4593fbfd7e08a02e76b03b21166f0
installer() { docker run --privileged --rm --network none "$image" "$@"; }
report() {
  local out
  out="$(installer "$@" | tr -d '\n')" || return
  case "$out" in
    *'"supported"'*) printf '%s' "$out" ;;
    *) echo "pulumi-buildx: binfmt: $image printed no JSON report ({\"supported\": [...], \"emulators\": [...]}) on stdout: it does not follow the tonistiigi/binfmt contract" >&2; return 1 ;;
  esac
}
has() { case "$1" in *"\"$2\""*) return 0 ;; esac; return 1; }
list() { sed -n "s/.*\"$2\": *\[\([^]]*\)\].*/\1/p" <<<"$1" | tr ',' '\n' | sed 's/^ *"//; s/" *$//' | grep -v '^$' || true; }
echo 'pulumi-buildx: binfmt: reading what the Docker host runs already' >&2
before="$(report)"
want=()
has "$before" linux/arm64 || want+=(arm64)
{ has "$before" linux/arm/v7 && has "$before" linux/arm/v6; } || want+=(arm)
if [ "${#want[@]}" -eq 0 ]; then
  echo 'pulumi-buildx: binfmt: the host runs linux/arm64, linux/arm/v7, linux/arm/v6 already; nothing to install' >&2
  after="$before"
else
  install="$(IFS=,; printf '%s' "${want[*]}")"
  echo "pulumi-buildx: binfmt: installing $install" >&2
  after="$(report --install "$install")"
fi
added="$(comm -13 <(list "$before" emulators | sort) <(list "$after" emulators | sort) | paste -sd, -)"
missing=()
has "$after" linux/arm64 || missing+=(linux/arm64)
has "$after" linux/arm/v7 || missing+=(linux/arm/v7)
has "$after" linux/arm/v6 || missing+=(linux/arm/v6)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ -n "$added" ]; then
    echo "pulumi-buildx: binfmt: removing the emulators this install registered: $added" >&2
    installer --uninstall "$added" >&2 || true
  fi
  echo "pulumi-buildx: binfmt: after the install the host still cannot run ${missing[*]}; the installer reports it runs: $(list "$after" supported | paste -sd' ' -)." >&2
  echo 'pulumi-buildx: binfmt: the installer log above says why. Usual causes: the kernel has no binfmt_misc, the Docker host cannot run --privileged containers, or a broken emulator with the same name is registered already (remove it with --uninstall NAME).' >&2
  exit 1
fi
printf '%s%s\n' 'pulumi-buildx-binfmt-added ' "$added"
printf '%s%s\n' 'pulumi-buildx-binfmt-report ' "$after"
