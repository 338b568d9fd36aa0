#!/usr/bin/env bash
# An S3-compatible server for the S3 cache tests: moto's server (PyPI, pinned)
# in a venv of its own, listening on the bridge address so that every
# buildkitd sees it (the docker driver in the host's network, docker-container
# builders on docker0, the test hosts on the bridge). One bucket, created at
# start. Its facts go to their own fragment, $DIR/s3.json (not env.json):
#
#   { "endpoint": "http://10.213.77.1:9555", "region": "us-east-1",
#     "bucket": "buildx-cache", "accessKeyId": "…", "secretAccessKey": "…" }
#
# The key pair is random, generated once, kept 0600, and for the tests only:
# moto does not check signatures, the tests use it to prove that no credential
# reaches state, argv or logs.
#
#   scripts/testenv/s3.sh up|status|down   (test-env.sh up/status/down call it)
#
# Measured here: the venv installs in about 14 s (moto[s3] + flask, 139 MB);
# BuildKit v0.16 exports to and imports from it with endpoint_url and
# use_path_style=true.
# shellcheck source-path=SCRIPTDIR
set -Eeuo pipefail

S3_SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TESTENV_DIR=${BUILDX_TESTENV_DIR:-/var/lib/pulumi-buildx-testenv}
RUN_DIR=$TESTENV_DIR/run
S3_DIR=$TESTENV_DIR/s3
S3_JSON=$TESTENV_DIR/s3.json
S3_HOST_ADDR=10.213.77.1
S3_PORT=9555
S3_ENDPOINT=http://$S3_HOST_ADDR:$S3_PORT
S3_REGION=us-east-1
S3_BUCKET=buildx-cache
MOTO_VERSION=5.2.5
S3_VENV=$S3_DIR/venv-moto-$MOTO_VERSION

# shellcheck source=lib.sh
. "$S3_SCRIPT_DIR/lib.sh"

s3_answers() { curl -fsS -o /dev/null --max-time 3 "$S3_ENDPOINT/"; }

s3_bucket_exists() { curl -fsS -o /dev/null --max-time 3 -I "$S3_ENDPOINT/$S3_BUCKET" 2>/dev/null; }

install_moto() {
  if [[ -e $S3_VENV/.installed ]]; then
    info "moto $MOTO_VERSION present ($S3_VENV)"
    return 0
  fi
  # Debian's python3 (not a pyenv or other one on PATH): the venv must outlive shells.
  /usr/bin/python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
  # A venv's scripts name their interpreter by absolute path, so it is built in place; the
  # stamp file says it is complete.
  rm -rf "$S3_VENV"
  /usr/bin/python3 -m venv "$S3_VENV"
  info "pip install moto[s3]==$MOTO_VERSION flask flask-cors"
  "$S3_VENV/bin/pip" install -q "moto[s3]==$MOTO_VERSION" flask flask-cors
  touch "$S3_VENV/.installed"
}

ensure_s3_credentials() {
  mkdir -p "$S3_DIR"
  chmod 0700 "$S3_DIR"
  if [[ ! -s $S3_DIR/access-key-id || ! -s $S3_DIR/secret-access-key ]]; then
    info "generating the test key pair"
    (umask 077 && printf 'AKIA%s\n' "$(openssl rand -hex 8 | tr a-f A-F)" >"$S3_DIR/access-key-id")
    (umask 077 && openssl rand -hex 20 >"$S3_DIR/secret-access-key")
  fi
}

write_s3_json() {
  local tmp=$S3_JSON.tmp
  jq -n --arg endpoint "$S3_ENDPOINT" --arg region "$S3_REGION" --arg bucket "$S3_BUCKET" \
    --rawfile id "$S3_DIR/access-key-id" --rawfile secret "$S3_DIR/secret-access-key" \
    --argjson pid "$(pid_of s3-moto python3)" \
    '{ endpoint: $endpoint, region: $region, bucket: $bucket, pid: $pid,
       accessKeyId: ($id | rtrimstr("\n")), secretAccessKey: ($secret | rtrimstr("\n")) }' >"$tmp"
  chmod 0600 "$tmp"
  mv "$tmp" "$S3_JSON"
  info "wrote $S3_JSON"
}

s3_up() {
  ((EUID == 0)) || die "must run as root"
  rm -f "$S3_JSON"
  install_moto
  ensure_s3_credentials
  start_daemon s3-moto python3 "$S3_VENV/bin/moto_server" -H "$S3_HOST_ADDR" -p "$S3_PORT"
  wait_daemon s3-moto python3 60 s3_answers
  if ! s3_bucket_exists; then
    curl -fsS -o /dev/null --max-time 5 -X PUT "$S3_ENDPOINT/$S3_BUCKET"
    info "created bucket $S3_BUCKET"
  fi
  write_s3_json
  info "S3 (moto $MOTO_VERSION): $S3_ENDPOINT, bucket $S3_BUCKET, region $S3_REGION"
}

s3_down() {
  rm -f "$S3_JSON"
  stop_daemon s3-moto python3
}

s3_status() {
  local pid
  if pid=$(pid_of s3-moto python3) && s3_answers && s3_bucket_exists && [[ -s $S3_JSON ]]; then
    printf '  %-4s  %s\n' up "s3-moto (pid $pid) $S3_ENDPOINT/$S3_BUCKET"
  else
    printf '  %-4s  %s\n' DOWN "s3-moto $S3_ENDPOINT/$S3_BUCKET"
    return 1
  fi
}

main() {
  trap on_err ERR
  trap on_exit EXIT
  case ${1:-} in
    up) s3_up ;;
    down) s3_down ;;
    status) s3_status ;;
    *)
      echo "usage: $0 up|down|status" >&2
      exit 2
      ;;
  esac
}

main "$@"
