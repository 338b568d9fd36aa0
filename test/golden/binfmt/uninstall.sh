set -euo pipefail
export LC_ALL=C
work="$(mktemp -d "${PULUMI_BUILDX_RUN_DIR:-${TMPDIR:-/tmp}}/pulumi-buildx.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
echo 'pulumi-buildx: binfmt: removing the emulators this resource registered: qemu-aarch64,qemu-arm' >&2
docker run --privileged --rm --network none tonistiigi/binfmt:qemu-v10.2.3@sha256:400a4873b838d1b89194d982c45e5fb3cda4593fbfd7e08a02e76b03b21166f0 --uninstall qemu-aarch64,qemu-arm > "$work/report.json"
left=()
grep -qF -e '"qemu-aarch64"' "$work/report.json" && left+=(qemu-aarch64)
grep -qF -e '"qemu-arm"' "$work/report.json" && left+=(qemu-arm)
if [ "${#left[@]}" -gt 0 ]; then
  echo "pulumi-buildx: binfmt: still registered after --uninstall: ${left[*]}" >&2
  exit 1
fi
