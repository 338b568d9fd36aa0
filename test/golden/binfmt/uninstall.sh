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
added="$(printf '%s\n' "${PULUMI_COMMAND_STDOUT:-}" | sed -n 's/^pulumi-buildx-binfmt-added //p' | tail -n 1)"
if [ -z "$added" ]; then
  echo 'pulumi-buildx: binfmt: this resource registered no emulators; nothing to remove' >&2
  exit 0
fi
echo "pulumi-buildx: binfmt: removing the emulators this resource registered: $added" >&2
after="$(report --uninstall "$added")"
left="$(comm -12 <(tr ',' '\n' <<<"$added" | sort) <(list "$after" emulators | sort) | paste -sd' ' -)"
if [ -n "$left" ]; then
  echo "pulumi-buildx: binfmt: still registered after --uninstall: $left" >&2
  exit 1
fi
