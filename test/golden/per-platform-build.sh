set -euo pipefail
work="$(mktemp -d "${PULUMI_BUILDX_RUN_DIR:-${TMPDIR:-/tmp}}/pulumi-buildx.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
echo 'pulumi-buildx: building linux/arm64' >&2
docker buildx build --builder arm-builder --platform linux/arm64 --file app/Dockerfile --build-arg VERSION=1 --cache-from type=registry,ref=10.0.0.1:5000/team/app:cache-linux-arm64 --cache-to type=registry,ref=10.0.0.1:5000/team/app:cache-linux-arm64,mode=max --cache-to type=inline --output type=image,name=10.0.0.1:5000/team/app,push-by-digest=true,name-canonical=true,push=true --progress plain --metadata-file "${work}"/metadata.json -- app >&2
: > "$work/index.raw"
echo "{}" > "$work/layout.json"
: > "$work/blobs.txt"
printf '%s{"metadata":"%s","layout":"%s","index":"%s","blobs":"%s"}\n' 'pulumi-buildx-result ' "$(base64 -w0 < "$work/metadata.json")" "$(base64 -w0 < "$work/layout.json")" "$(base64 -w0 < "$work/index.raw")" "$(base64 -w0 < "$work/blobs.txt")"
