/**
 * The user-data script of an EC2 builder node (Amazon Linux 2023, run once by cloud-init as
 * root at the first boot), one flavour per transport, and the script that later delivers the
 * BuildKit server's private key over SSH. Pure: plain arguments in, a plain string out; every
 * interpolated value goes through `quote`.
 *
 * Design decisions:
 * - TTL: a systemd timer with an absolute `OnCalendar=` deadline computed at the first boot
 *   (`Persistent=true`), not `shutdown -h +N`. A scheduled `shutdown` lives in memory: a reboot
 *   (or `shutdown -c`) silently cancels it, and the forgotten VM then runs for ever. The timer
 *   is on disk, fires immediately after a reboot past the deadline, and is written first, so it
 *   is armed even when the rest of the script fails. It calls `systemctl poweroff`; with the
 *   instance's shutdown behaviour `terminate`, the VM then disappears.
 * - The BuildKit server's private key is NOT in user-data (anyone with
 *   `ec2:DescribeInstanceAttribute` can read user-data, and so can every process on the VM through
 *   IMDS). User-data writes the CA certificate and the server certificate (public), installs
 *   buildkitd, and arms `buildkitd.path`, which starts `buildkitd.service` as soon as
 *   `/etc/buildkit/tls/key.pem` exists (the service also has `ConditionPathExists=` on it).
 *   The key arrives over SSH through `renderServerKeyInstall` (key on stdin), which writes it
 *   atomically and restarts the service if it is already installed, so the order of the two
 *   does not matter.
 * - The VM's ed25519 SSH host key is printed to the serial console right after the TTL is armed
 *   (`hostKeyToConsole`), so the deployer can read it through the EC2 API and verify the SSH
 *   connection that delivers the server key (`host-key.ts`, `console.ts`).
 * - buildkitd is downloaded over HTTPS (`--proto =https`, TLS 1.2+) from the GitHub release of
 *   `buildkitVersion`. The tarball's SHA-256 is verified when `buildkitSha256` is given (the
 *   validator fills in the digests of the default version, `DEFAULT_BUILDKIT_SHA256`); for another
 *   version without one, HTTPS is the only check.
 */
import { quote } from "../../shell";
import { Ec2NodeArch } from "./args";
import { hostKeyToConsole } from "./host-key";

/** Where the BuildKit TLS files live on the node. */
export const TLS_DIR = "/etc/buildkit/tls";
export const TLS_PATHS = { ca: `${TLS_DIR}/ca.pem`, cert: `${TLS_DIR}/cert.pem`, key: `${TLS_DIR}/key.pem` } as const;
/** buildkitd's local socket (group `buildkit`, of which `sshUser` is a member), for the readiness check. */
export const BUILDKIT_SOCKET = "unix:///run/buildkit/buildkitd.sock";
/** The systemd units user-data installs, for the readiness check's error messages. */
export const UNITS = { ttlTimer: "pulumi-buildx-ttl.timer", buildkitd: "buildkitd.service", buildkitdPath: "buildkitd.path" } as const;
/** The TTL timer unit; its `OnCalendar=` line holds the deadline (read back by the readiness check). */
export const TTL_TIMER_PATH = `/etc/systemd/system/${UNITS.ttlTimer}`;

interface CommonUserData {
    arch: Ec2NodeArch;
    /** Login user: created when missing (e.g. not `ec2-user`), given the key and passwordless sudo. */
    sshUser: string;
    /** OpenSSH public key authorised for `sshUser`. */
    sshPublicKey: string;
    /** Minutes after the first boot at which the VM powers off; 0: never. */
    ttlMinutes: number;
}

export interface SshUserData extends CommonUserData {
    transport: "ssh";
    /** Docker version to install with dnf (`docker-<version>`); default the newest. */
    dockerVersion?: string;
}

export interface TlsUserData extends CommonUserData {
    transport: "tls";
    /** e.g. `v0.33.0`. */
    buildkitVersion: string;
    /** SHA-256 (hex) of the release tarball of this arch; verified when given. */
    buildkitSha256?: string;
    /** TCP port buildkitd listens on (all addresses; the security group limits who reaches it). */
    port: number;
    /** CA certificate (PEM) that signed the server's and the clients' certificates. */
    caCertPem: string;
    /** The server's certificate (PEM). Its private key is delivered later (`renderServerKeyInstall`). */
    serverCertPem: string;
}

export type UserDataOptions = SshUserData | TlsUserData;

/** The user-data script for a node. Throws on a value that cannot be rendered safely (a programming error: validate first). */
export function renderUserData(opts: UserDataOptions): string {
    // Values also named in comments and paths must be of a known-safe shape (validation ensures it).
    assertShape("arch", opts.arch, /^(arm64|amd64)$/);
    assertShape("sshUser", opts.sshUser, /^[a-z_][a-z0-9_-]{0,31}$/);
    const sections = [header(opts), ttl(opts.ttlMinutes), hostKeyToConsole(), user(opts.sshUser, opts.sshPublicKey)];
    switch (opts.transport) {
        case "ssh":
            sections.push(docker(opts));
            break;
        case "tls":
            sections.push(buildkitd(opts));
            break;
        default: {
            const never: never = opts;
            throw new Error(`unknown transport ${JSON.stringify((never as { transport: unknown }).transport)}`);
        }
    }
    sections.push(`echo ${quote(`pulumi-buildx: ${opts.transport} node set up`)}\n`);
    return sections.join("\n");
}

/**
 * The script that installs the BuildKit server's private key, run over SSH as `sshUser` with
 * the key (PEM) on stdin: never on the command line, in the command string or in its output.
 * Writes it atomically (mode 0600, root), then restarts buildkitd if user-data has installed it
 * already (otherwise `buildkitd.path` starts it once user-data has).
 */
export function renderServerKeyInstall(): string {
    return `set -euo pipefail\n${serverKeyInstallSteps()}`;
}

/** The steps of `renderServerKeyInstall` without its `set` line, for a script that embeds them. */
export function serverKeyInstallSteps(): string {
    const dir = quote(TLS_DIR);
    const key = quote(TLS_PATHS.key);
    return `sudo install -d -m 0700 -o root -g root ${dir}
tmp=$(sudo mktemp ${quote(`${TLS_DIR}/.key.XXXXXX`)})
sudo tee "$tmp" >/dev/null
if ! sudo grep -q -- 'PRIVATE KEY-----' "$tmp"; then
  sudo rm -f "$tmp"
  echo 'pulumi-buildx: no PEM private key on stdin' >&2
  exit 1
fi
sudo chmod 0600 "$tmp"
sudo mv -f "$tmp" ${key}
if sudo systemctl cat ${quote(UNITS.buildkitd)} >/dev/null 2>&1; then
  sudo systemctl restart ${quote(UNITS.buildkitd)}
fi
`;
}

// ---------------------------------------------------------------------------------------------

function assertShape(what: string, value: string, shape: RegExp): void {
    if (typeof value !== "string" || !shape.test(value))
        throw new Error(`${what} ${JSON.stringify(value)} does not match ${shape}: validate the arguments first`);
}

function header(opts: UserDataOptions): string {
    return `#!/bin/bash
# pulumi-buildx Ec2BuilderNode: ${opts.transport} transport, ${opts.arch}, Amazon Linux 2023.
# Generated; runs once, as root, at the first boot. Output: /var/log/cloud-init-output.log
set -euo pipefail
umask 022
`;
}

/** Writes a file (mode 0644 unless given) with the exact contents, through quote. */
function writeFile(path: string, contents: string, mode = "0644"): string {
    return `install -m ${quote(mode)} /dev/null ${quote(path)}\nprintf '%s' ${quote(contents)} > ${quote(path)}\n`;
}

function ttl(minutes: number): string {
    if (!Number.isInteger(minutes) || minutes < 0) throw new Error(`ttlMinutes must be a non-negative integer, got ${minutes}`);
    if (minutes === 0) {
        return "# TTL disabled (ttlMinutes: 0): this node runs until it is destroyed.\n";
    }
    const timer = `${UNITS.ttlTimer}`;
    const service = timer.replace(/\.timer$/, ".service");
    return `# TTL: power off ${minutes} minutes after the first boot (shutdown behaviour "terminate" then
# removes the instance). A timer on disk with an absolute deadline survives reboots, unlike
# "shutdown -h +N"; it is armed first so that it holds even if the rest of this script fails.
deadline=$(date -u -d ${quote(`+${minutes} minutes`)} '+%Y-%m-%d %H:%M:%S UTC')
${writeFile(
    `/etc/systemd/system/${service}`,
    `[Unit]
Description=Power off this ephemeral pulumi-buildx builder node (TTL reached)

[Service]
Type=oneshot
ExecStart=/usr/bin/systemctl --no-block poweroff
`,
)}printf '%s\\n' '[Unit]' 'Description=TTL of this ephemeral pulumi-buildx builder node' '' '[Timer]' "OnCalendar=$deadline" 'Persistent=true' 'AccuracySec=1s' '' '[Install]' 'WantedBy=timers.target' > ${quote(TTL_TIMER_PATH)}
systemctl daemon-reload
systemctl enable --now ${quote(timer)}
echo "pulumi-buildx: this node powers off at $deadline"
`;
}

function user(sshUser: string, sshPublicKey: string): string {
    if (/[\r\n]/.test(sshPublicKey)) throw new Error("sshPublicKey must be one line");
    return `# The login user: created if missing, with the public key and passwordless sudo.
ssh_user=${quote(sshUser)}
ssh_public_key=${quote(sshPublicKey)}
if ! id -u "$ssh_user" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash "$ssh_user"
  printf '%s ALL=(ALL) NOPASSWD:ALL\\n' "$ssh_user" > /etc/sudoers.d/90-pulumi-buildx
  chmod 0440 /etc/sudoers.d/90-pulumi-buildx
fi
ssh_group=$(id -gn "$ssh_user")
ssh_home=$(getent passwd "$ssh_user" | cut -d: -f6)
install -d -m 0700 -o "$ssh_user" -g "$ssh_group" "$ssh_home/.ssh"
touch "$ssh_home/.ssh/authorized_keys"
grep -qxF -- "$ssh_public_key" "$ssh_home/.ssh/authorized_keys" || printf '%s\\n' "$ssh_public_key" >> "$ssh_home/.ssh/authorized_keys"
chown "$ssh_user:$ssh_group" "$ssh_home/.ssh/authorized_keys"
chmod 0600 "$ssh_home/.ssh/authorized_keys"
`;
}

function docker(opts: SshUserData): string {
    const pkg = opts.dockerVersion === undefined ? "docker" : `docker-${opts.dockerVersion}`;
    if (opts.dockerVersion !== undefined) assertShape("dockerVersion", opts.dockerVersion, /^[0-9][0-9A-Za-z.-]*$/);
    return `# Docker Engine (buildx reaches it as ssh://user@host and runs BuildKit in a container).
dnf install -y ${quote(pkg)}
systemctl enable --now docker.service
usermod -aG docker "$ssh_user"
`;
}

function buildkitd(opts: TlsUserData): string {
    for (const [what, pem] of [
        ["caCertPem", opts.caCertPem],
        ["serverCertPem", opts.serverCertPem],
    ] as const) {
        if (pem.includes("PRIVATE KEY")) throw new Error(`${what} contains a private key: user-data must never carry one`);
        if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new Error(`${what} is not a PEM certificate`);
    }
    if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) throw new Error(`port must be 1-65535, got ${opts.port}`);
    if (opts.buildkitSha256 !== undefined && !/^[0-9a-f]{64}$/.test(opts.buildkitSha256)) throw new Error("buildkitSha256 must be 64 lower-case hex digits");
    assertShape("buildkitVersion", opts.buildkitVersion, /^v[0-9]+\.[0-9]+\.[0-9]+(-rc[0-9]+)?$/);
    const tarball = `buildkit-${opts.buildkitVersion}.linux-${opts.arch}.tar.gz`;
    const url = `https://github.com/moby/buildkit/releases/download/${opts.buildkitVersion}/${tarball}`;
    const verify =
        opts.buildkitSha256 === undefined
            ? "# No SHA-256 given for the tarball: HTTPS from github.com is the only check.\n"
            : `printf '%s  %s\\n' ${quote(opts.buildkitSha256)} "$tmp/buildkit.tar.gz" | sha256sum --check --strict\n`;
    const flags = [
        "/usr/local/bin/buildkitd",
        "--addr",
        BUILDKIT_SOCKET,
        "--addr",
        `tcp://0.0.0.0:${opts.port}`,
        "--tlscacert",
        TLS_PATHS.ca,
        "--tlscert",
        TLS_PATHS.cert,
        "--tlskey",
        TLS_PATHS.key,
        "--group",
        "buildkit",
        "--oci-worker-binary",
        "/usr/local/bin/buildkit-runc",
    ];
    const service = `[Unit]
Description=BuildKit daemon (pulumi-buildx Ec2BuilderNode)
Documentation=https://github.com/moby/buildkit
Wants=network-online.target
After=network-online.target
# The private key arrives over SSH after boot; buildkitd.path starts this unit when it does.
ConditionPathExists=${TLS_PATHS.key}

[Service]
ExecStart=${flags.join(" ")}
Restart=always
RestartSec=2
Delegate=yes
KillMode=process
LimitNOFILE=1048576

[Install]
WantedBy=multi-user.target
`;
    const pathUnit = `[Unit]
Description=Start buildkitd once its TLS private key has been delivered

[Path]
PathExists=${TLS_PATHS.key}
Unit=${UNITS.buildkitd}

[Install]
WantedBy=multi-user.target
`;
    return `# buildkitd ${opts.buildkitVersion} (${opts.arch}) with mutual TLS on port ${opts.port}.
tmp=$(mktemp -d)
curl --fail --silent --show-error --location --retry 5 --retry-connrefused --proto '=https' --tlsv1.2 \\
  --output "$tmp/buildkit.tar.gz" ${quote(url)}
${verify}tar -xzf "$tmp/buildkit.tar.gz" -C /usr/local
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
install -d -m 0700 -o root -g root ${quote(TLS_DIR)}
${writeFile(TLS_PATHS.ca, opts.caCertPem)}${writeFile(TLS_PATHS.cert, opts.serverCertPem)}
${writeFile(`/etc/systemd/system/${UNITS.buildkitd}`, service)}${writeFile(`/etc/systemd/system/${UNITS.buildkitdPath}`, pathUnit)}systemctl daemon-reload
systemctl enable ${quote(UNITS.buildkitd)} ${quote(UNITS.buildkitdPath)}
systemctl start ${quote(UNITS.buildkitdPath)}
`;
}
