set -euo pipefail
work="$(mktemp -d "${PULUMI_BUILDX_RUN_DIR:-${TMPDIR:-/tmp}}/pulumi-buildx.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
store="$(docker info --format '{{range .DriverStatus}}{{if eq (index . 0) "driver-type"}}{{index . 1}}{{end}}{{end}}')"
if [ "$store" != io.containerd.snapshotter.v1 ]; then
  echo "pulumi-buildx: load (--load) of more than one platform needs the containerd image store, and the Docker engine $(docker context show) does not use it: enable it (\"features\": {\"containerd-snapshotter\": true} in daemon.json) or build one platform" >&2; exit 1
fi
echo 'pulumi-buildx: building linux/amd64, linux/arm64' >&2
docker buildx build --platform linux/amd64,linux/arm64 --file app/Dockerfile --tag 10.0.0.1:5000/team/app:1.0 --tag 10.0.0.1:5000/team/app:latest --load --progress plain --metadata-file "${work}"/metadata.json -- app >&2
: > "$work/index.raw"
echo "{}" > "$work/layout.json"
printf '%s{"metadata":"%s","layout":"%s","index":"%s"}\n' 'pulumi-buildx-result ' "$(base64 -w0 < "$work/metadata.json")" "$(base64 -w0 < "$work/layout.json")" "$(base64 -w0 < "$work/index.raw")"
