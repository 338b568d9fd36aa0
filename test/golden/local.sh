set -euo pipefail
work="$(mktemp -d "${PULUMI_BUILDX_RUN_DIR:-${TMPDIR:-/tmp}}/pulumi-buildx.XXXXXX")"
dest=out
partial=out.partial
trap 'rm -rf -- "$work"' EXIT
if [ -e "$dest" ] && { [ ! -d "$dest" ] || [ -n "$(find "$dest" -mindepth 1 -maxdepth 1 -regextype posix-extended \( ! -type d -o ! -regex '.*/(linux|windows|freebsd|netbsd|openbsd|darwin|dragonfly|illumos|solaris|aix|plan9|android|ios|js|wasip1)_(amd64|arm64|arm|386|ppc64le|ppc64|s390x|riscv64|mips64le|mips64|mipsle|mips|loong64|wasm)(_v[0-9]+)?' \) -print -quit)" ]; }; then
  echo "pulumi-buildx: output.dest $dest exists and is not a directory of per-platform exports; refusing to replace it" >&2; exit 1
fi
if [ -e "$partial" ] && { [ ! -d "$partial" ] || [ -n "$(find "$partial" -mindepth 1 -maxdepth 1 -regextype posix-extended \( ! -type d -o ! -regex '.*/(linux|windows|freebsd|netbsd|openbsd|darwin|dragonfly|illumos|solaris|aix|plan9|android|ios|js|wasip1)_(amd64|arm64|arm|386|ppc64le|ppc64|s390x|riscv64|mips64le|mips64|mipsle|mips|loong64|wasm)(_v[0-9]+)?' \) -print -quit)" ]; }; then
  echo "pulumi-buildx: $partial, where the export is written before it replaces $dest, exists and is not a directory of per-platform exports (a build killed midway can leave a half-written one): remove or rename it; refusing to delete it" >&2; exit 1
fi
trap 'rm -rf -- "$work" "$partial"' EXIT
rm -rf -- "$partial"
echo 'pulumi-buildx: building linux/amd64, linux/arm64' >&2
docker buildx build --platform linux/amd64,linux/arm64 --file app/Dockerfile --build-arg BUILDKIT_MULTI_PLATFORM=1 --output type=local,dest=out.partial,platform-split=true --progress plain --metadata-file "${work}"/metadata.json -- app >&2
rm -rf -- "$dest"
mv -- "$partial" "$dest"
: > "$work/index.raw"
echo "{}" > "$work/layout.json"
: > "$work/blobs.txt"
printf '%s{"metadata":"%s","layout":"%s","index":"%s","blobs":"%s"}\n' 'pulumi-buildx-result ' "$(base64 -w0 < "$work/metadata.json")" "$(base64 -w0 < "$work/layout.json")" "$(base64 -w0 < "$work/index.raw")" "$(base64 -w0 < "$work/blobs.txt")"
