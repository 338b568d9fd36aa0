set -u
start_of() { local s f; s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0; read -ra f <<<"${s##*) }"; printf '%s' "${f[19]:-}"; }
if [ -d /dev/shm ] && [ -w /dev/shm ]; then root=/dev/shm; else root="${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}"; fi
root="$root/pulumi-buildx-$(id -u)"
mkdir -p -- "$root" && chmod 700 -- "$root" || exit 1
for dead in "$root"/run-*; do
  [ -d "$dead" ] || continue
  id=${dead##*/run-}
  if [ "$(start_of "${id%%-*}")" != "${id#*-}" ]; then rm -rf -- "$dead"; fi
done
run="$root/run-$$-$(start_of $$)"
mkdir -m 700 -- "$run" || exit 1
export PULUMI_BUILDX_RUN_DIR="$run"
set -m
/bin/bash -c "$1" <&0 &
child=$!
set +m
exec 3> >(exec >/dev/null 2>&1; trap '' INT TERM HUP; cat; kill -KILL -- "-$child"; rm -rf -- "$run")
# shellcheck disable=SC2317 # called by the trap below
stop() {
  kill -TERM -- "-$child" 2>/dev/null
  (i=0; while kill -0 -- "-$child" 2>/dev/null && [ "$i" -lt 20 ]; do sleep 0.5; i=$((i + 1)); done; kill -KILL -- "-$child" 2>/dev/null) 3>&- >/dev/null 2>&1 &
}
trap stop INT TERM HUP
while :; do
  wait "$child"; rc=$?
  kill -0 "$child" 2>/dev/null || break
done
exit "$rc"
