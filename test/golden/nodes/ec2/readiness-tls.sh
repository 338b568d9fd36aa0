set -euo pipefail
label='node arm (tcp://198.51.100.7:1234)'
timeout_min=5
timeout_s=$((timeout_min * 60))
start=$(date +%s)
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
# The BuildKit server's private key, from stdin (never on a command line or in user-data).
install_server_key() {
  sudo install -d -m 0700 -o root -g root /etc/buildkit/tls
  tmp=$(sudo mktemp /etc/buildkit/tls/.key.XXXXXX)
  sudo tee "$tmp" >/dev/null
  if ! sudo grep -q -- 'PRIVATE KEY-----' "$tmp"; then
    sudo rm -f "$tmp"
    echo 'pulumi-buildx: no PEM private key on stdin' >&2
    exit 1
  fi
  sudo chmod 0600 "$tmp"
  sudo mv -f "$tmp" /etc/buildkit/tls/key.pem
  if sudo systemctl cat buildkitd.service >/dev/null 2>&1; then
    sudo systemctl restart buildkitd.service
  fi
}
install_server_key
buildctl_bin=$(PATH="$PATH:/usr/local/bin" command -v buildctl || echo /usr/local/bin/buildctl)
# buildkitd on its local socket, through sudo (the session may predate the buildkit group).
local_buildctl() { sudo -n "$buildctl_bin" --addr unix:///run/buildkit/buildkitd.sock "$@"; }
check() { local_buildctl debug workers; }
diagnose() {
  echo "--- setup log (tail of /var/log/cloud-init-output.log) ---"
  sudo -n tail -n 40 /var/log/cloud-init-output.log 2>&1 || true
  echo "--- daemon status ---"
  sudo -n systemctl --no-pager status buildkitd.path buildkitd.service 2>&1 | tail -n 20 || true
  sudo -n journalctl --no-pager -u buildkitd.service -n 30 2>&1 || true
}
echo "pulumi-buildx: waiting for BuildKit on $label (up to $timeout_min min)" >&2
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
    echo "pulumi-buildx: $label: BuildKit did not answer within $timeout_min min (readyTimeoutMinutes); last check said: $last" >&2
    exit 1
  fi
  if (( (now - start) % 30 < 5 )); then echo "pulumi-buildx: still waiting for BuildKit on $label ($((now - start)) s)" >&2; fi
  sleep 5
done
echo "pulumi-buildx: BuildKit answers on $label after $(( $(date +%s) - start )) s" >&2
served=$(sudo -n openssl s_client -connect 127.0.0.1:1234 -servername buildkitd.pulumi-buildx.internal -verify_hostname buildkitd.pulumi-buildx.internal -CAfile /etc/buildkit/tls/ca.pem -verify_return_error -brief </dev/null 2>&1 || true)
if ! grep -qx 'Verification: OK' <<<"$served"; then
  printf 'pulumi-buildx: %s: %s\n' "$label" 'the certificate buildkitd serves on port 1234 does not verify against /etc/buildkit/tls/ca.pem for buildkitd.pulumi-buildx.internal (what buildx checks); openssl said:' >&2
  printf '%s\n' "$served" | head -n 20 >&2
  exit 1
fi
printf 'pulumi-buildx: %s serves a certificate for %s signed by its CA\n' "$label" buildkitd.pulumi-buildx.internal >&2
{ local_buildctl debug info 2>/dev/null | awk '$1 == "BuildKit:" {print $3}' || true; } > "$work/version"
cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub > "$work/ssh-host-key" 2>/dev/null || true
sed -n 's/^OnCalendar=//p' /etc/systemd/system/pulumi-buildx-ttl.timer > "$work/expires-at" 2>/dev/null || true
printf '%s{"version":"%s","sshHostKey":"%s","expiresAt":"%s"}\n' 'pulumi-buildx-ready ' "$(base64 -w0 < "$work/version")" "$(base64 -w0 < "$work/ssh-host-key")" "$(base64 -w0 < "$work/expires-at")"
