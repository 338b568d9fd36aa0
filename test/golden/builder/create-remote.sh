set -euo pipefail
name=fleet
tls_root="${BUILDX_CONFIG:-${DOCKER_CONFIG:-$HOME/.docker}/buildx}/pulumi-tls/$name"
work="$(mktemp -d "${PULUMI_BUILDX_RUN_DIR:-${TMPDIR:-/tmp}}/pulumi-buildx.XXXXXX")"
finished=0
on_exit() {
  local rc=$?
  if [ "$finished" != 1 ]; then
    echo "pulumi-buildx: removing the half-made builder $name" >&2
    docker buildx rm "$name" >/dev/null 2>&1 || docker buildx rm --keep-daemon "$name" >/dev/null 2>&1 || true
    rm -rf -- "$tls_root"
  fi
  rm -rf -- "$work"
  exit "$rc"
}
trap on_exit EXIT
builder_exists() {
  local err
  if err="$(docker buildx inspect "$name" 2>&1 >/dev/null)"; then return 0; fi
  case "$err" in *'no builder'*'found'*) return 1 ;; esac
  printf '%s\n' "$err" >&2
  echo "pulumi-buildx: cannot tell whether builder $name exists (docker buildx inspect failed)" >&2
  exit 1
}
remove_builder() {
  if ! docker buildx rm "$name" >&2; then
    echo "pulumi-buildx: buildx could not stop every node of $name (is one unreachable?); removing the instance and leaving those daemons" >&2
    docker buildx rm --keep-daemon "$name" >&2
  fi
}
# node_step NODE WHAT CMD...: run a buildx step for NODE; on failure say which node, where, and buildx's error.
node_step() {
  local node="$1" what="$2" reason
  shift 2
  if "$@" >"$work/out" 2>"$work/err"; then cat "$work/err" >&2; return 0; fi
  cat "$work/err" >&2
  reason="$(grep '^ERROR:' "$work/err" | tail -n 1 | sed 's/^ERROR: *//')"
  [ -n "$reason" ] || reason="$(tail -n 1 "$work/err")"
  if [ "$what" = "bootstrap" ]; then
    local why
    why="$(timeout 30 docker buildx du --builder "$name" 2>&1 >/dev/null | grep '^ERROR:' | tail -n 1 | sed 's/^ERROR: *//' || true)"
    [ -z "$why" ] || reason="$reason ($why)"
  fi
  echo "pulumi-buildx: node $node of builder $name failed to $what: $reason" >&2
  exit 1
}
case "$tls_root" in *,*|*'"'*|*$'\n'*|*$'\r'*) echo "pulumi-buildx: buildx cannot take TLS files under $tls_root (a comma, quote or line break in the path)" >&2; exit 1 ;; esac
if builder_exists; then
  echo "pulumi-buildx: replacing the existing builder instance $name" >&2
  remove_builder
fi
rm -rf -- "$tls_root"
umask 077
mkdir -p -- "${tls_root}"/amd
chmod 700 -- "${tls_root}" "${tls_root}"/amd
printf '%s\n' "${PULUMI_BUILDX_NODE_0_TLS_CA}" > "${tls_root}"/amd/ca.pem
printf '%s\n' "${PULUMI_BUILDX_NODE_0_TLS_CERT}" > "${tls_root}"/amd/cert.pem
printf '%s\n' "${PULUMI_BUILDX_NODE_0_TLS_KEY}" > "${tls_root}"/amd/key.pem
mkdir -p -- "${tls_root}"/arm
chmod 700 -- "${tls_root}" "${tls_root}"/arm
printf '%s\n' "${PULUMI_BUILDX_NODE_1_TLS_CA}" > "${tls_root}"/arm/ca.pem
printf '%s\n' "${PULUMI_BUILDX_NODE_1_TLS_CERT}" > "${tls_root}"/arm/cert.pem
printf '%s\n' "${PULUMI_BUILDX_NODE_1_TLS_KEY}" > "${tls_root}"/arm/key.pem
echo 'pulumi-buildx: creating builder fleet with node amd (tcp://10.0.0.1:1234)' >&2
node_step 'amd (tcp://10.0.0.1:1234)' 'be created' docker buildx create --name fleet --driver remote --node amd --platform linux/amd64 --driver-opt cacert="${tls_root}"/amd/ca.pem --driver-opt cert="${tls_root}"/amd/cert.pem --driver-opt key="${tls_root}"/amd/key.pem -- tcp://10.0.0.1:1234
node_step 'amd (tcp://10.0.0.1:1234)' bootstrap docker buildx inspect --bootstrap "$name"
echo 'pulumi-buildx: appending node arm (tcp://10.0.0.2:1234)' >&2
node_step 'arm (tcp://10.0.0.2:1234)' 'be appended' docker buildx create --append --name fleet --driver remote --node arm --platform linux/arm64,linux/arm/v7 --driver-opt servername=arm.internal --driver-opt cacert="${tls_root}"/arm/ca.pem --driver-opt cert="${tls_root}"/arm/cert.pem --driver-opt key="${tls_root}"/arm/key.pem -- tcp://10.0.0.2:1234
node_step 'arm (tcp://10.0.0.2:1234)' bootstrap docker buildx inspect --bootstrap "$name"
docker buildx inspect "$name" > "$work/inspect.txt"
finished=1
printf '%s{"inspect":"%s"}\n' 'pulumi-buildx-builder-result ' "$(base64 -w0 < "$work/inspect.txt")"
