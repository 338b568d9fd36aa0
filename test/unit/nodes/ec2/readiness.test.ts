/**
 * The readiness check: golden scripts, `bash -n` and shellcheck, the parser, and the script run
 * by bash against a simulated node (fakes on PATH for sudo, buildctl, docker, id, sg,
 * cloud-init, date and sleep; date advances 60 s per call so a timeout takes no real time).
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { calendarToRfc3339, parseReadiness, renderReadinessCheck, READY_MARKER } from "../../../../src/nodes/ec2/readiness";
import { expectGolden } from "../../../harness/golden";

const KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIREADINESSTESTKEY\n-----END EC PRIVATE KEY-----\n";

function fakes(root: string, behaviour: Record<string, string>): Record<string, string> {
    const bin = path.join(root, "bin");
    fs.mkdirSync(bin, { recursive: true });
    const scripts: Record<string, string> = {
        // sudo: moves /etc/buildkit under $FAKE_ROOT, drops its own -n and install's -o/-g.
        sudo: `[ "$1" = -n ] && shift
args=(); skip=0
for a in "$@"; do
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  case "$a" in -o|-g) skip=1; continue ;; /etc/buildkit*) a="$FAKE_ROOT$a" ;; esac
  args+=("$a")
done
exec "\${args[@]}"`,
        systemctl: `exit 1`,
        // date +%s advances a counter by 60 per call; other uses fall through.
        date: `if [ "$1" = +%s ]; then n=$(cat "$FAKE_ROOT/clock" 2>/dev/null || echo 1000); echo $((n + 60)) > "$FAKE_ROOT/clock"; echo "$n"; else exec /bin/date "$@"; fi`,
        sleep: `exit 0`,
        buildctl: behaviour.buildctl ?? `exit 1`,
        docker: behaviour.docker ?? `exit 1`,
        id: behaviour.id ?? `exec /usr/bin/id "$@"`,
        sg: behaviour.sg ?? `exit 1`,
        // openssl s_client: the handshake verifies, then buildkitd refuses the missing client certificate.
        openssl: behaviour.openssl ?? `printf 'CONNECTION ESTABLISHED\nVerification: OK\n'; echo 'tlsv13 alert certificate required' >&2; exit 1`,
        ...(behaviour["cloud-init"] ? { "cloud-init": behaviour["cloud-init"] } : {}),
    };
    for (const [name, body] of Object.entries(scripts)) fs.writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    return { ...process.env, FAKE_ROOT: root, PATH: `${bin}:${process.env.PATH}` } as Record<string, string>;
}

describe("EC2 node readiness check", () => {
    const tls = () =>
        renderReadinessCheck({
            transport: "tls",
            nodeName: "arm",
            endpoint: "tcp://198.51.100.7:1234",
            timeoutMinutes: 5,
            served: { port: 1234, serverName: "buildkitd.pulumi-buildx.internal" },
        });
    const ssh = () => renderReadinessCheck({ transport: "ssh", nodeName: "amd", endpoint: "ssh://ec2-user@198.51.100.8", timeoutMinutes: 2 });

    it("matches the golden scripts, which pass bash -n and shellcheck", () => {
        for (const [name, script] of [
            ["tls", tls()],
            ["ssh", ssh()],
        ]) {
            expectGolden(`nodes/ec2/readiness-${name}.sh`, script);
            const n = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
            assert.strictEqual(n.status, 0, n.stderr);
            const sc = spawnSync("shellcheck", ["-s", "bash", "-"], { input: script, encoding: "utf8" });
            assert.strictEqual(sc.status, 0, `${name}: ${sc.stdout}${sc.stderr}`);
        }
    });

    it("refuses a timeout that is not a positive whole number of minutes", () => {
        for (const bad of [0, -1, 1.5, NaN]) {
            assert.throws(
                () => renderReadinessCheck({ transport: "tls", nodeName: "x", endpoint: "tcp://a:1", timeoutMinutes: bad }),
                /timeoutMinutes must be a positive integer/,
            );
        }
    });

    describe("run against a simulated node", () => {
        let root: string;
        beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "ec2-ready-"))));
        afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
        const run = (script: string, env: Record<string, string>, stdin = "") => spawnSync("bash", ["-c", script], { input: stdin, encoding: "utf8", env });

        it("tls: installs the key from stdin, waits for buildkitd, then reports its version", () => {
            // buildkitd answers on the third poll, and only once the key is in place.
            const env = fakes(root, {
                buildctl: `c=$(cat "$FAKE_ROOT/polls" 2>/dev/null || echo 0); echo $((c + 1)) > "$FAKE_ROOT/polls"
[ -s "$FAKE_ROOT/etc/buildkit/tls/key.pem" ] || exit 1
case "$*" in *"debug info"*) echo "BuildKit: github.com/moby/buildkit v0.16.0 abcdef"; exit 0 ;; esac
[ "$c" -ge 2 ]`,
            });
            const r = run(tls(), env, KEY);
            assert.strictEqual(r.status, 0, r.stderr);
            assert.strictEqual(fs.readFileSync(path.join(root, "etc/buildkit/tls/key.pem"), "utf8"), KEY);
            const report = parseReadiness(r.stdout);
            assert.strictEqual(report.version, "v0.16.0");
            assert.match(r.stderr, /BuildKit answers on node arm \(tcp:\/\/198\.51\.100\.7:1234\)/);
            assert.ok(!`${r.stdout}${r.stderr}`.includes("READINESSTESTKEY"), "the key is never printed");
        });

        it("tls: checks the served certificate against the node's CA and server name, and fails naming the node when it does not verify", () => {
            const answers = `case "$*" in *"debug info"*) echo "BuildKit: github.com/moby/buildkit v0.16.0 abcdef" ;; esac; exit 0`;
            const ok = fakes(root, { buildctl: answers, openssl: `printf '%s\\n' "$@" > "$FAKE_ROOT/openssl-args"; echo 'Verification: OK'; exit 1` });
            const r = run(tls(), ok, KEY);
            assert.strictEqual(r.status, 0, r.stderr);
            assert.deepStrictEqual(fs.readFileSync(path.join(root, "openssl-args"), "utf8").trim().split("\n"), [
                "s_client",
                "-connect",
                "127.0.0.1:1234",
                "-servername",
                "buildkitd.pulumi-buildx.internal",
                "-verify_hostname",
                "buildkitd.pulumi-buildx.internal",
                "-CAfile",
                `${root}/etc/buildkit/tls/ca.pem`,
                "-verify_return_error",
                "-brief",
            ]);
            assert.match(r.stderr, /node arm \(tcp:\/\/198\.51\.100\.7:1234\) serves a certificate for buildkitd\.pulumi-buildx\.internal signed by its CA/);
            parseReadiness(r.stdout);

            fs.rmSync(path.join(root, "bin"), { recursive: true });
            const bad = fakes(root, {
                buildctl: answers,
                openssl: `echo 'verify error:num=62:hostname mismatch'; echo 'Verification error: hostname mismatch'; exit 1`,
            });
            const b = run(tls(), bad, KEY);
            assert.strictEqual(b.status, 1);
            assert.match(
                b.stderr,
                /pulumi-buildx: node arm \(tcp:\/\/198\.51\.100\.7:1234\): the certificate buildkitd serves on port 1234 does not verify against \/etc\/buildkit\/tls\/ca\.pem for buildkitd\.pulumi-buildx\.internal/,
            );
            assert.match(b.stderr, /hostname mismatch/);
            assert.strictEqual(b.stdout, "", "no report for a node whose certificate is wrong");
        });

        it("tls: without a key on stdin, fails before waiting", () => {
            const env = fakes(root, { buildctl: "exit 0" });
            const r = run(tls(), env, "");
            assert.strictEqual(r.status, 1);
            assert.match(r.stderr, /no PEM private key on stdin/);
            assert.ok(!fs.existsSync(path.join(root, "polls")));
        });

        it("tls: gives up after the timeout, naming the node, the limit and the last answer", () => {
            const env = fakes(root, { buildctl: `echo "connection refused: /run/buildkit/buildkitd.sock" >&2; exit 1` });
            const r = run(tls(), env, KEY);
            assert.strictEqual(r.status, 1);
            assert.match(
                r.stderr,
                /node arm \(tcp:\/\/198\.51\.100\.7:1234\): BuildKit did not answer within 5 min \(readyTimeoutMinutes\); last check said: connection refused/,
            );
            assert.match(r.stderr, /--- setup log/);
            assert.strictEqual(r.stdout, "");
        });

        it("fails fast when cloud-init reports an error", () => {
            const env = fakes(root, { buildctl: "exit 1", "cloud-init": `echo "status: error"` });
            const r = run(tls(), env, KEY);
            assert.strictEqual(r.status, 1);
            assert.match(r.stderr, /the node's setup \(user-data\) failed/);
            assert.strictEqual(Number(fs.readFileSync(path.join(root, "clock"), "utf8")), 1000 + 2 * 60, "one poll, no waiting for the timeout");
        });

        it("ssh: waits until the user is in the docker group, using sg while the session predates it", () => {
            // The session's groups (id -nG) never include docker; the group database (id -nG USER) does from the 2nd poll.
            const env = fakes(root, {
                id: `case "$*" in
  -un) echo ec2-user ;;
  -nG) echo ec2-user wheel ;;
  "-nG ec2-user") c=$(cat "$FAKE_ROOT/polls" 2>/dev/null || echo 0); echo $((c + 1)) > "$FAKE_ROOT/polls"; if [ "$c" -ge 1 ]; then echo ec2-user wheel docker; else echo ec2-user wheel; fi ;;
  *) exec /usr/bin/id "$@" ;;
esac`,
                docker: `echo "permission denied while trying to connect to the Docker daemon socket" >&2; exit 1`,
                sg: `[ "$1" = docker ] && [ "$2" = -c ] || exit 2; echo 25.0.8`,
            });
            const r = run(ssh(), env);
            assert.strictEqual(r.status, 0, r.stderr);
            assert.strictEqual(parseReadiness(r.stdout).version, "25.0.8");
            assert.match(r.stderr, /Docker answers on node amd/);
        });

        it("ssh: times out naming the missing group", () => {
            const env = fakes(root, { docker: "echo 25.0.8", id: `case "$*" in -un) echo ec2-user ;; *) echo ec2-user wheel ;; esac` });
            const r = run(ssh(), env);
            assert.strictEqual(r.status, 1);
            assert.match(r.stderr, /Docker did not answer within 2 min .*last check said: ec2-user is not \(yet\) in the docker group/);
        });
    });

    describe("parseReadiness", () => {
        const out = (fields: Record<string, string>) =>
            `${READY_MARKER}${JSON.stringify(Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Buffer.from(v).toString("base64")])))}`;

        it("reads the version, the host key and the TTL deadline", () => {
            const r = parseReadiness(
                `noise\n${out({ version: "v0.16.0\n", sshHostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFAKE\n", expiresAt: "2026-11-29 19:22:00 UTC\n" })}\n`,
            );
            assert.deepStrictEqual(r, { version: "v0.16.0", sshHostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFAKE", expiresAt: "2026-11-29T19:22:00Z" });
        });

        it("gives empty strings for a missing host key or TTL, and drops a malformed host key", () => {
            assert.deepStrictEqual(parseReadiness(out({ version: "25.0.8", sshHostKey: "", expiresAt: "" })), {
                version: "25.0.8",
                sshHostKey: "",
                expiresAt: "",
            });
            assert.strictEqual(parseReadiness(out({ version: "1", sshHostKey: "ssh-ed25519 AAAA $(rm -rf)", expiresAt: "" })).sshHostKey, "");
        });

        it("throws when the result line or a field is missing (the script changed without its parser)", () => {
            assert.throws(() => parseReadiness(out({ version: "1", sshHostKey: "" })), /readiness check result has no "expiresAt"/);
            assert.throws(() => parseReadiness("noise\n"), /expected one "pulumi-buildx-ready" result line, found 0/);
        });

        for (const [input, want] of [
            ["2026-11-29 19:22:00 UTC", "2026-11-29T19:22:00Z"],
            ["2026-11-29 19:22:00", ""],
            ["Sun 2026-11-29 19:22:00 UTC", ""],
            ["", ""],
        ]) {
            it(`calendarToRfc3339(${JSON.stringify(input)}) = ${JSON.stringify(want)}`, () => assert.strictEqual(calendarToRfc3339(input), want));
        }
    });
});
