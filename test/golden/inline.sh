set -euo pipefail
work="$(mktemp -d "${PULUMI_BUILDX_RUN_DIR:-${TMPDIR:-/tmp}}/pulumi-buildx.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
cat > "$work/Dockerfile"
echo 'pulumi-buildx: building linux/amd64, linux/arm64' >&2
docker buildx build --platform linux/amd64,linux/arm64 --file "${work}"/Dockerfile --tag 10.0.0.1:5000/team/app:1.0 --tag 10.0.0.1:5000/team/app:latest --push --progress plain --metadata-file "${work}"/metadata.json -- app >&2
echo 'pulumi-buildx: reading back 10.0.0.1:5000/team/app:1.0' >&2
docker buildx imagetools inspect --raw -- 10.0.0.1:5000/team/app:1.0 > "$work/index.raw"
echo "{}" > "$work/layout.json"
: > "$work/blobs.txt"
printf '%s{"metadata":"%s","layout":"%s","index":"%s","blobs":"%s"}\n' 'pulumi-buildx-result ' "$(base64 -w0 < "$work/metadata.json")" "$(base64 -w0 < "$work/layout.json")" "$(base64 -w0 < "$work/index.raw")" "$(base64 -w0 < "$work/blobs.txt")"
