set -euo pipefail
label='node amd (ssh://ec2-user@198.51.100.8)'
timeout_min=2
timeout_s=$((timeout_min * 60))
start=$(date +%s)
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
in_docker_group() { id -nG "$(id -un)" | tr ' ' '\n' | grep -qx docker; }
# Docker's version as this user, through sg while the session predates the docker group.
docker_version() {
  if id -nG | tr ' ' '\n' | grep -qx docker; then docker version --format '{{.Server.Version}}'
  else sg docker -c "docker version --format '{{.Server.Version}}'"; fi
}
check() {
  in_docker_group || { echo "$(id -un) is not (yet) in the docker group"; return 1; }
  docker_version
}
diagnose() {
  echo "--- setup log (tail of /var/log/cloud-init-output.log) ---"
  sudo -n tail -n 40 /var/log/cloud-init-output.log 2>&1 || true
  echo "--- daemon status ---"
  sudo -n systemctl --no-pager status docker.service 2>&1 | tail -n 20 || true
}
echo "pulumi-buildx: waiting for Docker on $label (up to $timeout_min min)" >&2
last=""
until last=$(check 2>&1); do
  now=$(date +%s)
  if command -v cloud-init >/dev/null 2>&1 && cloud-init status 2>/dev/null | grep -q 'status: error'; then
    diagnose >&2
    echo "pulumi-buildx: $label: the node's setup (user-data) failed; its log is above" >&2
    exit 1
  fi
  if (( now - start >= timeout_s )); then
    diagnose >&2
    echo "pulumi-buildx: $label: Docker did not answer within $timeout_min min (readyTimeoutMinutes); last check said: $last" >&2
    exit 1
  fi
  if (( (now - start) % 30 < 5 )); then echo "pulumi-buildx: still waiting for Docker on $label ($((now - start)) s)" >&2; fi
  sleep 5
done
echo "pulumi-buildx: Docker answers on $label after $(( $(date +%s) - start )) s" >&2
{ docker_version 2>/dev/null || true; } > "$work/version"
cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub > "$work/ssh-host-key" 2>/dev/null || true
sed -n 's/^OnCalendar=//p' /etc/systemd/system/pulumi-buildx-ttl.timer > "$work/expires-at" 2>/dev/null || true
printf '%s{"version":"%s","sshHostKey":"%s","expiresAt":"%s"}\n' 'pulumi-buildx-ready ' "$(base64 -w0 < "$work/version")" "$(base64 -w0 < "$work/ssh-host-key")" "$(base64 -w0 < "$work/expires-at")"
