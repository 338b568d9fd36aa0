set -euo pipefail
export LC_ALL=C
work="$(mktemp -d "${PULUMI_BUILDX_RUN_DIR:-${TMPDIR:-/tmp}}/pulumi-buildx.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
echo 'pulumi-buildx: binfmt: installing every emulator the installer carries (--install all)' >&2
docker run --privileged --rm --network none 'registry.example.com/tools/binfmt:it'\''s' --install all > "$work/report.json"
printf '%s{"report":"%s"}\n' 'pulumi-buildx-binfmt-result ' "$(base64 -w0 < "$work/report.json")"
