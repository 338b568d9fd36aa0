set -euo pipefail
work="$(mktemp -d "${PULUMI_BUILDX_RUN_DIR:-${TMPDIR:-/tmp}}/pulumi-buildx.XXXXXX")"
dest=out
partial=out.partial
trap 'rm -rf -- "$work" "$partial"' EXIT
if [ -e "$dest" ] && { [ ! -d "$dest" ] || [ -n "$(find "$dest" -mindepth 1 -maxdepth 1 \( ! -type d -o ! -regex '.*/[a-z0-9]+_[a-z0-9]+\(_[a-z0-9]+\)?' \) -print -quit)" ]; }; then
  echo "pulumi-buildx: output.dest $dest exists and is not a directory of per-platform exports; refusing to replace it" >&2; exit 1
fi
rm -rf -- "$partial"
echo 'pulumi-buildx: building linux/amd64, linux/arm64' >&2
docker buildx build --platform linux/amd64,linux/arm64 --file app/Dockerfile --build-arg BUILDKIT_MULTI_PLATFORM=1 --output type=local,dest=out.partial,platform-split=true --progress plain --metadata-file "${work}"/metadata.json -- app >&2
rm -rf -- "$dest"
mv -- "$partial" "$dest"
: > "$work/index.raw"
echo "{}" > "$work/layout.json"
printf '%s{"metadata":"%s","layout":"%s","index":"%s"}\n' 'pulumi-buildx-result ' "$(base64 -w0 < "$work/metadata.json")" "$(base64 -w0 < "$work/layout.json")" "$(base64 -w0 < "$work/index.raw")"
