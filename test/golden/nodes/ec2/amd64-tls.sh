#!/bin/bash
# pulumi-buildx Ec2BuilderNode: tls transport, amd64, Amazon Linux 2023.
# Generated; runs once, as root, at the first boot. Output: /var/log/cloud-init-output.log
set -euo pipefail
umask 022

# TTL: power off 120 minutes after the first boot (shutdown behaviour "terminate" then
# removes the instance). A timer on disk with an absolute deadline survives reboots, unlike
# "shutdown -h +N"; it is armed first so that it holds even if the rest of this script fails.
deadline=$(date -u -d '+120 minutes' '+%Y-%m-%d %H:%M:%S UTC')
install -m 0644 /dev/null /etc/systemd/system/pulumi-buildx-ttl.service
printf '%s' '[Unit]
Description=Power off this ephemeral pulumi-buildx builder node (TTL reached)

[Service]
Type=oneshot
ExecStart=/usr/bin/systemctl --no-block poweroff
' > /etc/systemd/system/pulumi-buildx-ttl.service
printf '%s\n' '[Unit]' 'Description=TTL of this ephemeral pulumi-buildx builder node' '' '[Timer]' "OnCalendar=$deadline" 'Persistent=true' 'AccuracySec=1s' '' '[Install]' 'WantedBy=timers.target' > /etc/systemd/system/pulumi-buildx-ttl.timer
systemctl daemon-reload
systemctl enable --now pulumi-buildx-ttl.timer
echo "pulumi-buildx: this node powers off at $deadline"

# The SSH host key, printed to the serial console: the deployer reads it back through the EC2
# API (GetConsoleOutput) and refuses an SSH server that presents another key.
for _ in $(seq 1 60); do [ -s /etc/ssh/ssh_host_ed25519_key.pub ] && break; sleep 1; done
if [ ! -s /etc/ssh/ssh_host_ed25519_key.pub ]; then
  echo 'pulumi-buildx: no ed25519 SSH host key (/etc/ssh/ssh_host_ed25519_key.pub): the deployer could not verify this node' >&2
  exit 1
fi
host_key_line="pulumi-buildx-host-key: $(cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)"
echo "$host_key_line"
{ echo "$host_key_line" > /dev/console; } 2>/dev/null || true

# The login user: created if missing, with the public key and passwordless sudo.
ssh_user=ec2-user
ssh_public_key='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHr1bK0e3VbYw0aJ9sQwE2m6c1n1g2hX7s9T6oZ0a9fB me@laptop'
if ! id -u "$ssh_user" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash "$ssh_user"
  printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$ssh_user" > /etc/sudoers.d/90-pulumi-buildx
  chmod 0440 /etc/sudoers.d/90-pulumi-buildx
fi
ssh_group=$(id -gn "$ssh_user")
ssh_home=$(getent passwd "$ssh_user" | cut -d: -f6)
install -d -m 0700 -o "$ssh_user" -g "$ssh_group" "$ssh_home/.ssh"
touch "$ssh_home/.ssh/authorized_keys"
grep -qxF -- "$ssh_public_key" "$ssh_home/.ssh/authorized_keys" || printf '%s\n' "$ssh_public_key" >> "$ssh_home/.ssh/authorized_keys"
chown "$ssh_user:$ssh_group" "$ssh_home/.ssh/authorized_keys"
chmod 0600 "$ssh_home/.ssh/authorized_keys"

# buildkitd v0.16.0 (amd64) with mutual TLS on port 1234.
tmp=$(mktemp -d)
curl --fail --silent --show-error --location --retry 5 --retry-connrefused --proto '=https' --tlsv1.2 \
  --output "$tmp/buildkit.tar.gz" https://github.com/moby/buildkit/releases/download/v0.16.0/buildkit-v0.16.0.linux-amd64.tar.gz
# No SHA-256 given for the tarball: HTTPS from github.com is the only check.
tar -xzf "$tmp/buildkit.tar.gz" -C /usr/local
rm -rf "$tmp"
for bin in buildkitd buildctl buildkit-runc; do
  if [ ! -x "/usr/local/bin/$bin" ]; then
    echo "pulumi-buildx: $bin is missing from the BuildKit release tarball" >&2
    exit 1
  fi
done
# openssl: the readiness check verifies the certificate buildkitd serves with it.
command -v openssl >/dev/null || dnf install -y openssl
getent group buildkit >/dev/null || groupadd --system buildkit
usermod -aG buildkit "$ssh_user"

# TLS: the CA and server certificates (public). The server's private key is delivered over SSH.
install -d -m 0755 /etc/buildkit
install -d -m 0700 -o root -g root /etc/buildkit/tls
install -m 0644 /dev/null /etc/buildkit/tls/ca.pem
printf '%s' '-----BEGIN CERTIFICATE-----
MIIBfakeCertificateForCAAAAA
QUJDRA==
-----END CERTIFICATE-----
' > /etc/buildkit/tls/ca.pem
install -m 0644 /dev/null /etc/buildkit/tls/cert.pem
printf '%s' '-----BEGIN CERTIFICATE-----
MIIBfakeCertificateForbuildkitdAAAA
QUJDRA==
-----END CERTIFICATE-----
' > /etc/buildkit/tls/cert.pem

install -m 0644 /dev/null /etc/systemd/system/buildkitd.service
printf '%s' '[Unit]
Description=BuildKit daemon (pulumi-buildx Ec2BuilderNode)
Documentation=https://github.com/moby/buildkit
Wants=network-online.target
After=network-online.target
# The private key arrives over SSH after boot; buildkitd.path starts this unit when it does.
ConditionPathExists=/etc/buildkit/tls/key.pem

[Service]
ExecStart=/usr/local/bin/buildkitd --addr unix:///run/buildkit/buildkitd.sock --addr tcp://0.0.0.0:1234 --tlscacert /etc/buildkit/tls/ca.pem --tlscert /etc/buildkit/tls/cert.pem --tlskey /etc/buildkit/tls/key.pem --group buildkit --oci-worker-binary /usr/local/bin/buildkit-runc
Restart=always
RestartSec=2
Delegate=yes
KillMode=process
LimitNOFILE=1048576

[Install]
WantedBy=multi-user.target
' > /etc/systemd/system/buildkitd.service
install -m 0644 /dev/null /etc/systemd/system/buildkitd.path
printf '%s' '[Unit]
Description=Start buildkitd once its TLS private key has been delivered

[Path]
PathExists=/etc/buildkit/tls/key.pem
Unit=buildkitd.service

[Install]
WantedBy=multi-user.target
' > /etc/systemd/system/buildkitd.path
systemctl daemon-reload
systemctl enable buildkitd.service buildkitd.path
systemctl start buildkitd.path

echo 'pulumi-buildx: tls node set up'
