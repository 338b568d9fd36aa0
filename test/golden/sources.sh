set -euo pipefail
work="$(mktemp -d "${PULUMI_BUILDX_RUN_DIR:-${TMPDIR:-/tmp}}/pulumi-buildx.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
if ! printenv -- MY_NPM_TOKEN >/dev/null; then echo 'pulumi-buildx: secrets.NPM_TOKEN: the environment variable MY_NPM_TOKEN is not set where docker buildx runs' >&2; exit 1; fi
if [ ! -f ./creds,1.txt ] || [ ! -r ./creds,1.txt ]; then echo 'pulumi-buildx: secrets.aws: the file ./creds,1.txt is not there or not readable where docker buildx runs' >&2; exit 1; fi
if [ -z "${SSH_AUTH_SOCK:-}" ]; then echo 'pulumi-buildx: ssh (id default): SSH_AUTH_SOCK is not set where docker buildx runs; start an agent or give paths' >&2; exit 1; fi
echo 'pulumi-buildx: building linux/amd64, linux/arm64' >&2
docker buildx build --platform linux/amd64,linux/arm64 --file app/Dockerfile --tag 10.0.0.1:5000/team/app:1.0 --tag 10.0.0.1:5000/team/app:latest --secret id=NPM_TOKEN,env=MY_NPM_TOKEN --secret 'id=aws,"src=./creds,1.txt"' --ssh default --ssh deploy=/keys/deploy.pem,/run/agent.sock --push --progress plain --metadata-file "${work}"/metadata.json -- app >&2
echo 'pulumi-buildx: reading back 10.0.0.1:5000/team/app:1.0' >&2
docker buildx imagetools inspect --raw -- 10.0.0.1:5000/team/app:1.0 > "$work/index.raw"
echo "{}" > "$work/layout.json"
: > "$work/blobs.txt"
printf '%s{"metadata":"%s","layout":"%s","index":"%s","blobs":"%s"}\n' 'pulumi-buildx-result ' "$(base64 -w0 < "$work/metadata.json")" "$(base64 -w0 < "$work/layout.json")" "$(base64 -w0 < "$work/index.raw")" "$(base64 -w0 < "$work/blobs.txt")"
