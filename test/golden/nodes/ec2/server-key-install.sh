set -euo pipefail
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
