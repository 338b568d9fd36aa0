set -euo pipefail
work="$(mktemp -d "${PULUMI_BUILDX_RUN_DIR:-${TMPDIR:-/tmp}}/pulumi-buildx.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
orig_config="${DOCKER_CONFIG:-$HOME/.docker}"
export BUILDX_CONFIG="${BUILDX_CONFIG:-$orig_config/buildx}"
if [ -z "${DOCKER_HOST:-}" ] && [ -z "${DOCKER_CONTEXT:-}" ]; then DOCKER_CONTEXT="$(docker context show)"; export DOCKER_CONTEXT; fi
mkdir -m 700 -- "$work/docker-config"
for d in contexts cli-plugins; do if [ -e "$orig_config/$d" ]; then ln -s -- "$orig_config/$d" "$work/docker-config/$d"; fi; done
export DOCKER_CONFIG="$work/docker-config"
echo 'pulumi-buildx: logging in to '"${PULUMI_BUILDX_REGISTRY_0_ADDRESS}" >&2
printf '%s' "${PULUMI_BUILDX_REGISTRY_0_PASSWORD}" | docker login --username "${PULUMI_BUILDX_REGISTRY_0_USERNAME}" --password-stdin -- "${PULUMI_BUILDX_REGISTRY_0_ADDRESS}" >&2
echo 'pulumi-buildx: joining linux/amd64, linux/arm64 as 10.0.0.1:5000/team/app:1.0, 10.0.0.1:5000/team/app:latest' >&2
docker buildx imagetools create --builder fleet --tag 10.0.0.1:5000/team/app:1.0 --tag 10.0.0.1:5000/team/app:latest -- 10.0.0.1:5000/team/app@sha256:1111111111111111111111111111111111111111111111111111111111111111 10.0.0.1:5000/team/app@sha256:2222222222222222222222222222222222222222222222222222222222222222 >&2
echo 'pulumi-buildx: reading back 10.0.0.1:5000/team/app:1.0' >&2
docker buildx imagetools inspect --builder fleet --raw -- 10.0.0.1:5000/team/app:1.0 > "$work/index.raw"
docker buildx imagetools inspect --builder fleet --format '{{json .Manifest}}' -- 10.0.0.1:5000/team/app:1.0 > "$work/descriptor.json"
docker buildx imagetools inspect --builder fleet --raw -- 10.0.0.1:5000/team/app@sha256:1111111111111111111111111111111111111111111111111111111111111111 > "${work}"/source-0.raw
docker buildx imagetools inspect --builder fleet --raw -- 10.0.0.1:5000/team/app@sha256:2222222222222222222222222222222222222222222222222222222222222222 > "${work}"/source-1.raw
printf '%s{"index":"%s","descriptor":"%s","source0":"%s","source1":"%s"}\n' 'pulumi-buildx-merged ' "$(base64 -w0 < "$work/index.raw")" "$(base64 -w0 < "$work/descriptor.json")" "$(base64 -w0 < "$work/source-0.raw")" "$(base64 -w0 < "$work/source-1.raw")"
