set -euo pipefail
work="$(mktemp -d "${PULUMI_BUILDX_RUN_DIR:-${TMPDIR:-/tmp}}/pulumi-buildx.XXXXXX")"
dest=out.tar
partial=out.tar.partial
trap 'rm -rf -- "$work" "$partial"' EXIT
if [ -e "$dest" ] && { [ ! -f "$dest" ] || ! tar -tf "$dest" > /dev/null 2>&1; }; then
  echo "pulumi-buildx: output.dest $dest exists and is not a tar file; refusing to replace it" >&2; exit 1
fi
rm -rf -- "$partial"
echo 'pulumi-buildx: building linux/amd64, linux/arm64' >&2
docker buildx build --platform linux/amd64,linux/arm64 --file app/Dockerfile --build-arg BUILDKIT_MULTI_PLATFORM=1 --output type=tar,dest=out.tar.partial --progress plain --metadata-file "${work}"/metadata.json -- app >&2
rm -rf -- "$dest"
mv -- "$partial" "$dest"
: > "$work/index.raw"
echo "{}" > "$work/layout.json"
printf '%s{"metadata":"%s","layout":"%s","index":"%s"}\n' 'pulumi-buildx-result ' "$(base64 -w0 < "$work/metadata.json")" "$(base64 -w0 < "$work/layout.json")" "$(base64 -w0 < "$work/index.raw")"
