set -euo pipefail
name=ssh-fleet
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
  echo "pulumi-buildx: node $node of builder $name failed to $what: $reason" >&2
  exit 1
}
case "$tls_root" in *,*|*'"'*|*$'\n'*|*$'\r'*) echo "pulumi-buildx: buildx cannot take TLS files under $tls_root (a comma, quote or line break in the path)" >&2; exit 1 ;; esac
if builder_exists; then
  echo "pulumi-buildx: replacing the existing builder instance $name" >&2
  remove_builder
fi
rm -rf -- "$tls_root"
printf '%s' '[registry."10.0.0.9:5000"]
  ca = ["/etc/ca.pem"]
# it'\''s quoted
' > "$work/buildkitd.toml"
echo 'pulumi-buildx: creating builder ssh-fleet with node local (the current docker context)' >&2
node_step 'local (the current docker context)' 'be created' docker buildx create --name ssh-fleet --driver docker-container --node local --platform linux/amd64 --driver-opt image=moby/buildkit:v0.16.0 --driver-opt network=host --buildkitd-flags '--debug --allow-insecure-entitlement network.host' --buildkitd-config "${work}"/buildkitd.toml
node_step 'local (the current docker context)' bootstrap docker buildx inspect --bootstrap "$name"
echo 'pulumi-buildx: appending node pi (ssh://pi@10.0.0.3)' >&2
node_step 'pi (ssh://pi@10.0.0.3)' 'be appended' docker buildx create --append --name ssh-fleet --driver docker-container --node pi --platform linux/arm64 --driver-opt '"env.NO_PROXY=a,b"' --driver-opt image=moby/buildkit:v0.16.0 --buildkitd-flags '--debug --allow-insecure-entitlement network.host' --buildkitd-config "${work}"/buildkitd.toml -- ssh://pi@10.0.0.3
node_step 'pi (ssh://pi@10.0.0.3)' bootstrap docker buildx inspect --bootstrap "$name"
docker buildx use "$name" >&2
docker buildx inspect "$name" > "$work/inspect.txt"
finished=1
printf '%s{"inspect":"%s"}\n' 'pulumi-buildx-builder-result ' "$(base64 -w0 < "$work/inspect.txt")"
