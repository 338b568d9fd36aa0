set -euo pipefail
export LC_ALL=C
work="$(mktemp -d "${PULUMI_BUILDX_RUN_DIR:-${TMPDIR:-/tmp}}/pulumi-buildx.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
printf '%s\n' 'pulumi-buildx: binfmt: the installer printed: installing: s390x cannot register' >&2
echo 'pulumi-buildx: binfmt: removing the emulators this install registered: qemu-aarch64,qemu-arm' >&2
docker run --privileged --rm --network none tonistiigi/binfmt:qemu-v10.2.3@sha256:400a4873b838d1b89194d982c45e5fb3cda4593fbfd7e08a02e76b03b21166f0 --uninstall qemu-aarch64,qemu-arm >&2 || true
echo 'pulumi-buildx: binfmt: after the install the host still cannot run linux/s390x; the installer reports it runs: linux/amd64 linux/arm64 linux/arm/v7 linux/arm/v6.' >&2
echo 'pulumi-buildx: binfmt: the installer log above says why. Usual causes: the kernel has no binfmt_misc, the Docker host cannot run --privileged containers, or a broken emulator with the same name is registered already (remove it with --uninstall NAME).' >&2
exit 1
