#!/bin/bash
# pulumi-buildx Ec2BuilderNode: ssh transport, amd64, Amazon Linux 2023.
# Generated; runs once, as root, at the first boot. Output: /var/log/cloud-init-output.log
set -euo pipefail
umask 022

# TTL disabled (ttlMinutes: 0): this node runs until it is destroyed.

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
ssh_user=builder
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

# Docker Engine (buildx reaches it as ssh://user@host and runs BuildKit in a container).
dnf install -y docker
systemctl enable --now docker.service
usermod -aG docker "$ssh_user"

echo 'pulumi-buildx: ssh node set up'
