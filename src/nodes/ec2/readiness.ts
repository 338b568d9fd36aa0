/**
 * The readiness check of an EC2 builder node: a script run over SSH (as `sshUser`) once the
 * instance exists, that waits until the node can build, and the parser of what it prints.
 * Pure: plain arguments in, a typed shell plan out (rendered once by `renderScript`).
 *
 * - `tls`: first installs the BuildKit server's private key from stdin (`renderServerKeyInstall`;
 *   the key never reaches user-data, a command line or the output), then polls buildkitd on its
 *   local socket (`buildctl debug workers`, through sudo: the session may predate the user's
 *   membership of the `buildkit` group), then checks the certificate it serves on its TCP port
 *   with `openssl s_client` against the CA and the server name.
 * - `ssh`: polls `docker version` as the user, the way buildx's `ssh://` connection will use it
 *   (through `sg docker` while the session predates the user's membership of `docker`), and
 *   checks that the user is in the `docker` group, so buildx's own fresh sessions will work.
 *
 * Each poll is 5 s apart with a progress line every 30 s. The check fails fast when cloud-init
 * reports an error, and after `timeoutMinutes` in any case, printing the node's setup log and
 * daemon status so the error says why. On success it prints one result line (`resultLine`):
 * `pulumi-buildx-ready {"version":…,"sshHostKey":…,"expiresAt":…}`, each value base64.
 */
import { parseResultLine } from "../../marked-lines";
import { argv, bash, bashLines, Line, renderScript, resultLine, sh, ShellPlan } from "../../shell";
import { Ec2NodeTransport } from "./args";
import { BUILDKIT_SOCKET, serverKeyInstallSteps, TLS_PATHS, TTL_TIMER_PATH, UNITS } from "./userdata";

export const READY_MARKER = "pulumi-buildx-ready ";

export interface ReadinessOptions {
    transport: Ec2NodeTransport;
    /** For messages: the node's name and the endpoint buildx will use. */
    nodeName: string;
    endpoint: string;
    timeoutMinutes: number;
    /** `tls`: where buildkitd serves TLS on the VM, and the name its certificate must carry (buildx's `servername`). */
    served?: { port: number; serverName: string };
}

export interface ReadinessReport {
    /** Docker's server version (`ssh`) or BuildKit's (`tls`), as the node reports it. */
    version: string;
    /** The node's SSH host key (`ssh-ed25519 AAAA…`), for `known_hosts`; "" when not found. */
    sshHostKey: string;
    /** When the TTL powers the node off (RFC 3339, UTC); "" when no TTL timer is installed. */
    expiresAt: string;
}

/** The readiness script, rendered. */
export function renderReadinessCheck(opts: ReadinessOptions): string {
    return renderScript(planReadinessCheck(opts));
}

/** The readiness script. Throws on a value that cannot be rendered (a programming error: validate first). */
export function planReadinessCheck(opts: ReadinessOptions): ShellPlan {
    if (!Number.isInteger(opts.timeoutMinutes) || opts.timeoutMinutes < 1)
        throw new Error(`timeoutMinutes must be a positive integer, got ${opts.timeoutMinutes}`);
    const poll = 5;
    const what = opts.transport === "tls" ? "BuildKit" : "Docker";
    let prelude: Line[];
    let check: string;
    let version: string;
    let diagnose: Line[];
    let verify: Line[] = [];
    switch (opts.transport) {
        case "tls":
            verify = verifyServedCertificate(opts);
            prelude = [
                bash(`# The BuildKit server's private key, from stdin (never on a command line or in user-data).
install_server_key() {
${indent(serverKeyInstallSteps())}}
install_server_key
buildctl_bin=$(PATH="$PATH:/usr/local/bin" command -v buildctl || echo /usr/local/bin/buildctl)
# buildkitd on its local socket, through sudo (the session may predate the buildkit group).`),
                sh`local_buildctl() { sudo -n "$buildctl_bin" --addr ${BUILDKIT_SOCKET} "$@"; }`,
            ];
            check = `check() { local_buildctl debug workers; }`;
            version = `local_buildctl debug info 2>/dev/null | awk '$1 == "BuildKit:" {print $3}' || true`;
            diagnose = [
                sh`  sudo -n systemctl --no-pager status ${UNITS.buildkitdPath} ${UNITS.buildkitd} 2>&1 | tail -n 20 || true`,
                sh`  sudo -n journalctl --no-pager -u ${UNITS.buildkitd} -n 30 2>&1 || true`,
            ];
            break;
        case "ssh":
            prelude = [];
            check = `in_docker_group() { id -nG "$(id -un)" | tr ' ' '\\n' | grep -qx docker; }
# Docker's version as this user, through sg while the session predates the docker group.
docker_version() {
  if id -nG | tr ' ' '\\n' | grep -qx docker; then docker version --format '{{.Server.Version}}'
  else sg docker -c "docker version --format '{{.Server.Version}}'"; fi
}
check() {
  in_docker_group || { echo "$(id -un) is not (yet) in the docker group"; return 1; }
  docker_version
}`;
            version = `docker_version 2>/dev/null || true`;
            diagnose = [bash(`  sudo -n systemctl --no-pager status docker.service 2>&1 | tail -n 20 || true`)];
            break;
        default: {
            const never: never = opts.transport;
            throw new Error(`unknown transport ${JSON.stringify(never)}`);
        }
    }
    const lines: Line[] = [
        bash("set -euo pipefail"),
        sh`label=${`node ${opts.nodeName} (${opts.endpoint})`}`,
        sh`timeout_min=${String(opts.timeoutMinutes)}`,
        bash(`timeout_s=$((timeout_min * 60))
start=$(date +%s)
work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT`),
        ...prelude,
        bash(`${check}
diagnose() {
  echo "--- setup log (tail of /var/log/cloud-init-output.log) ---"
  sudo -n tail -n 40 /var/log/cloud-init-output.log 2>&1 || true
  echo "--- daemon status ---"`),
        ...diagnose,
        bash(`}
echo "pulumi-buildx: waiting for ${what} on $label (up to $timeout_min min)" >&2
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
    echo "pulumi-buildx: $label: ${what} did not answer within $timeout_min min (readyTimeoutMinutes); last check said: $last" >&2
    exit 1
  fi
  if (( (now - start) % 30 < ${poll} )); then echo "pulumi-buildx: still waiting for ${what} on $label ($((now - start)) s)" >&2; fi
  sleep ${poll}
done
echo "pulumi-buildx: ${what} answers on $label after $(( $(date +%s) - start )) s" >&2`),
        ...verify,
        bash(`{ ${version}; } > "$work/version"
cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub > "$work/ssh-host-key" 2>/dev/null || true`),
        sh`sed -n 's/^OnCalendar=//p' ${TTL_TIMER_PATH} > "$work/expires-at" 2>/dev/null || true`,
        resultLine(READY_MARKER, { version: '"$work/version"', sshHostKey: '"$work/ssh-host-key"', expiresAt: '"$work/expires-at"' }),
    ];
    return { lines, env: {} };
}

/**
 * `tls`: the certificate buildkitd serves, checked on the VM as buildx will check it (against
 * the node's CA, for the server name), so a certificate mistake fails here, naming the node,
 * rather than in the first build. buildkitd then refuses the session (no client certificate):
 * only the verification result counts, not the exit status.
 */
function verifyServedCertificate(opts: ReadinessOptions): Line[] {
    if (opts.served === undefined) throw new Error("renderReadinessCheck: tls needs `served` (port and server name)");
    const { port, serverName } = opts.served;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`served.port must be 1-65535, got ${port}`);
    const openssl = argv(
        "sudo",
        "-n",
        "openssl",
        "s_client",
        "-connect",
        `127.0.0.1:${port}`,
        "-servername",
        serverName,
        "-verify_hostname",
        serverName,
        "-CAfile",
        TLS_PATHS.ca,
        "-verify_return_error",
        "-brief",
    );
    const what =
        `the certificate buildkitd serves on port ${port} does not verify against ${TLS_PATHS.ca} ` + `for ${serverName} (what buildx checks); openssl said:`;
    return [
        sh`served=$(${openssl} </dev/null 2>&1 || true)`,
        bash(`if ! grep -qx 'Verification: OK' <<<"$served"; then`),
        sh`  printf 'pulumi-buildx: %s: %s\\n' "$label" ${what} >&2`,
        ...bashLines(`  printf '%s\\n' "$served" | head -n 20 >&2`, "  exit 1", "fi"),
        sh`printf 'pulumi-buildx: %s serves a certificate for %s signed by its CA\\n' "$label" ${serverName} >&2`,
    ];
}

/**
 * Parses the check's one result line. Throws when it or a field is missing (the script changed without
 * its parser). `expires-at` arrives as systemd's calendar form (`2026-11-29 18:00:00 UTC`) and
 * is returned as RFC 3339 (`2026-11-29T18:00:00Z`).
 */
export function parseReadiness(stdout: string): ReadinessReport {
    const fields = parseResultLine(stdout, READY_MARKER);
    const value = (key: keyof ReadinessReport) => {
        if (fields[key] === undefined) throw new Error(`readiness check result has no "${key}": ${stdout}`);
        return fields[key].toString("utf8").trim();
    };
    const hostKey = value("sshHostKey");
    return {
        version: value("version"),
        sshHostKey: /^[a-z0-9@.-]+ [A-Za-z0-9+/]+={0,3}$/.test(hostKey) ? hostKey : "",
        expiresAt: calendarToRfc3339(value("expiresAt")),
    };
}

/** `2026-11-29 18:00:00 UTC` → `2026-11-29T18:00:00Z`; anything else → "". */
export function calendarToRfc3339(text: string): string {
    const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) UTC$/.exec(text.trim());
    return m === null ? "" : `${m[1]}T${m[2]}Z`;
}

function indent(text: string): string {
    return text
        .split("\n")
        .map((l) => (l === "" ? l : `  ${l}`))
        .join("\n");
}
