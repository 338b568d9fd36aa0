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
echo 'pulumi-buildx: logging in to '"${PULUMI_BUILDX_REGISTRY_1_ADDRESS}" >&2
if ! password="$(bash -c 'aws ecr get-login-password --region eu-west-1' </dev/null)"; then echo 'pulumi-buildx: the passwordCommand of registry '"${PULUMI_BUILDX_REGISTRY_1_ADDRESS}"' failed: aws ecr get-login-password --region eu-west-1' >&2; exit 1; fi
printf '%s' "$password" | docker login --username "${PULUMI_BUILDX_REGISTRY_1_USERNAME}" --password-stdin -- "${PULUMI_BUILDX_REGISTRY_1_ADDRESS}" >&2
unset password
echo 'pulumi-buildx: building linux/amd64, linux/arm64' >&2
docker buildx build --builder fleet --platform linux/amd64,linux/arm64 --file app/Dockerfile --tag 10.0.0.1:5000/team/app:1.0 --tag 10.0.0.1:5000/team/app:latest --target runtime --build-arg 'VERSION=1.2 beta' --build-arg 'QUOTE=it'\''s' --label org.opencontainers.image.source=https://example.com/x --annotation index:org.opencontainers.image.description=multi --secret id=NPM_TOKEN,env=PULUMI_BUILDX_SECRET_NPM_TOKEN --cache-from type=registry,ref=10.0.0.1:5000/team/app:cache --cache-from type=local,src=.cache --cache-to type=inline --cache-to type=local,dest=.cache,mode=max --cache-to type=registry,ref=123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:cache,mode=max,image-manifest=true,oci-mediatypes=true,compression=zstd,ignore-error=true --network host --add-host db:10.0.0.9 --no-cache --pull --provenance=false --sbom=true --push --progress plain --metadata-file "${work}"/metadata.json -- app >&2
echo 'pulumi-buildx: reading back 10.0.0.1:5000/team/app:1.0' >&2
docker buildx imagetools inspect --raw -- 10.0.0.1:5000/team/app:1.0 > "$work/index.raw"
echo "{}" > "$work/layout.json"
: > "$work/blobs.txt"
printf '%s{"metadata":"%s","layout":"%s","index":"%s","blobs":"%s"}\n' 'pulumi-buildx-result ' "$(base64 -w0 < "$work/metadata.json")" "$(base64 -w0 < "$work/layout.json")" "$(base64 -w0 < "$work/index.raw")" "$(base64 -w0 < "$work/blobs.txt")"
