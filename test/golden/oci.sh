set -euo pipefail
work="$(mktemp -d "${PULUMI_BUILDX_RUN_DIR:-${TMPDIR:-/tmp}}/pulumi-buildx.XXXXXX")"
dest=out/layout
partial=out/layout.partial
trap 'rm -rf -- "$work"' EXIT
if [ -e "$dest" ] && { [ ! -f "$dest"/oci-layout ]; }; then
  echo "pulumi-buildx: output.dest $dest exists and is not an OCI image layout; refusing to replace it" >&2; exit 1
fi
if [ -e "$partial" ] && { [ ! -f "$partial"/oci-layout ]; }; then
  echo "pulumi-buildx: $partial, where the export is written before it replaces $dest, exists and is not an OCI image layout (a build killed midway can leave a half-written one): remove or rename it; refusing to delete it" >&2; exit 1
fi
trap 'rm -rf -- "$work" "$partial"' EXIT
rm -rf -- "$partial"
echo 'pulumi-buildx: building linux/amd64, linux/arm64' >&2
docker buildx build --platform linux/amd64,linux/arm64 --file app/Dockerfile --output type=oci,dest=out/layout.partial,tar=false --progress plain --metadata-file "${work}"/metadata.json -- app >&2
rm -rf -- "$dest"
mv -- "$partial" "$dest"
cp -- "$dest/index.json" "$work/layout.json"
(cd -- "$dest/blobs/sha256" && find . -maxdepth 1 -type f -size -65k -printf '%f\n') | sort > "$work/blob-names"
while read -r f; do printf '%s %s\n' "$f" "$(base64 -w0 < "$dest/blobs/sha256/$f")"; done < "$work/blob-names" > "$work/blobs.txt"
: > "$work/index.raw"
printf '%s{"metadata":"%s","layout":"%s","index":"%s","blobs":"%s"}\n' 'pulumi-buildx-result ' "$(base64 -w0 < "$work/metadata.json")" "$(base64 -w0 < "$work/layout.json")" "$(base64 -w0 < "$work/index.raw")" "$(base64 -w0 < "$work/blobs.txt")"
