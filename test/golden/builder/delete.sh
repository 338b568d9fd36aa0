set -euo pipefail
name=fleet
tls_root="${BUILDX_CONFIG:-${DOCKER_CONFIG:-$HOME/.docker}/buildx}/pulumi-tls/$name"
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
if builder_exists; then
  echo "pulumi-buildx: removing builder $name" >&2
  remove_builder
else
  echo "pulumi-buildx: builder $name is already gone" >&2
fi
rm -rf -- "$tls_root"
