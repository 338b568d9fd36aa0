set -euo pipefail
export LC_ALL=C
image='registry.example.com/tools/binfmt:it'\''s'
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
echo 'pulumi-buildx: binfmt: installing every emulator the installer carries (--install all)' >&2
after="$(report --install all)"
added="$(comm -13 <(list "$before" emulators | sort) <(list "$after" emulators | sort) | paste -sd, -)"
printf '%s%s\n' 'pulumi-buildx-binfmt-added ' "$added"
printf '%s%s\n' 'pulumi-buildx-binfmt-report ' "$after"
