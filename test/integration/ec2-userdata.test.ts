/**
 * An EC2 node's first boot, simulated on this machine: the generated user-data runs as root
 * with bash in a private mount namespace whose /etc, /home and /usr/local are overlays (so
 * useradd, groupadd, install and tar really run and write real files, and this machine is not
 * touched), with only what needs a real VM faked on PATH: systemctl (records its calls), dnf
 * (records), curl (hands over a local BuildKit-like tarball). Then the readiness check runs in
 * the same namespace with the server key on stdin. What the boot wrote is read from the
 * overlays' upper directories.
 *
 * This tests what the golden files cannot: that the TTL timer is written and armed first (even
 * when the rest of the script fails), holds an absolute deadline ttlMinutes ahead, and that the
 * readiness check reads it back as `expiresAt`; that the key install and buildkitd units fit
 * together; that the login user, its key and sudo are set up.
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { hostKeyFromConsole } from "../../src/nodes/ec2/host-key";
import { parseReadiness, renderReadinessCheck } from "../../src/nodes/ec2/readiness";
import { renderUserData, UserDataOptions } from "../../src/nodes/ec2/userdata";

const PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHr1bK0e3VbYw0aJ9sQwE2m6c1n1g2hX7s9T6oZ0a9fB boot@test";
const CA = "-----BEGIN CERTIFICATE-----\nQk9PVC1URVNULUNB\n-----END CERTIFICATE-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nQk9PVC1URVNULUNFUlQ=\n-----END CERTIFICATE-----\n";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBOOTTESTHOSTKEYBOOTTESTHOSTKEYBOOTTESTHOST";
const KEY = "-----BEGIN EC PRIVATE KEY-----\nQk9PVC1URVNULUtFWQ==\n-----END EC PRIVATE KEY-----\n";
const OVERLAYS = ["etc", "home", "usr/local"];

interface Boot {
    rc: number;
    stdout: string;
    stderr: string;
    /** systemctl, dnf and curl calls, in order ("systemctl daemon-reload", …). */
    calls: string[];
    /** A path on the simulated node as this machine sees it after the boot (upper dir), or undefined if the boot did not write it. */
    written(p: string): string | undefined;
    ready?: { rc: number; stdout: string; stderr: string };
    /** What the boot wrote to the serial console (/dev/console). */
    console: string;
    startedAt: number;
    endedAt: number;
}

describe("EC2 node first boot (user-data run in a private mount namespace)", function () {
    this.timeout(120_000);
    let work: string;
    let tarball: string;

    before(function () {
        if (process.getuid?.() !== 0) throw new Error("needs root (mount namespaces and overlays), as the test environment does");
        tarball = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "boot-tarball-")), "buildkit.tar.gz");
        const dir = path.join(path.dirname(tarball), "tree", "bin");
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, "buildkitd"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
        fs.writeFileSync(path.join(dir, "buildkit-runc"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
        // buildctl answers once the key that readiness delivers is in place (as buildkitd would start then).
        fs.writeFileSync(
            path.join(dir, "buildctl"),
            `#!/bin/sh\n[ -s /etc/buildkit/tls/key.pem ] || { echo "no socket yet" >&2; exit 1; }\ncase "$*" in *"debug info"*) echo "BuildKit: github.com/moby/buildkit v0.16.0 boot-test" ;; esac\nexit 0\n`,
            { mode: 0o755 },
        );
        execFileSync("tar", ["-czf", tarball, "-C", path.join(path.dirname(tarball), "tree"), "bin"]);
    });
    after(() => fs.rmSync(path.dirname(tarball), { recursive: true, force: true }));
    beforeEach(() => (work = fs.mkdtempSync(path.join(os.tmpdir(), "boot-"))));
    afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

    /** `failing`: commands that fail on this "VM" (faked on PATH, exit 1). */
    function boot(userData: string, readiness?: { script: string; stdin: string }, runs = 1, failing: string[] = []): Boot {
        const fakes = path.join(work, "fakes");
        fs.mkdirSync(fakes);
        const log = path.join(work, "calls.log");
        const fake = (name: string, body: string) =>
            fs.writeFileSync(path.join(fakes, name), `#!/bin/bash\nprintf '%s\\n' "${name} $*" >> ${log}\n${body}\n`, { mode: 0o755 });
        fake("systemctl", `if [ "$1" = cat ]; then [ -e "/etc/systemd/system/$2" ]; else exit 0; fi`);
        fake("dnf", "exit 0");
        // No buildkitd serves TLS here: openssl s_client answers as for a certificate that verifies.
        fake("openssl", "echo 'Verification: OK'; exit 1");
        for (const name of failing) fake(name, `echo "${name}: simulated failure" >&2; exit 1`);
        fake("curl", `while [ $# -gt 0 ]; do if [ "$1" = --output ]; then cp ${tarball} "$2"; fi; shift; done`);
        fs.writeFileSync(path.join(work, "userdata.sh"), userData);
        if (readiness) {
            fs.writeFileSync(path.join(work, "readiness.sh"), readiness.script);
            fs.writeFileSync(path.join(work, "stdin"), readiness.stdin, { mode: 0o600 });
        }
        const mounts = OVERLAYS.map((d) => {
            const id = d.replace(/\//g, "_");
            return `mkdir -p ${work}/${id}.upper ${work}/${id}.work && mount -t overlay overlay -o lowerdir=/${d},upperdir=${work}/${id}.upper,workdir=${work}/${id}.work /${d}`;
        });
        const driver = `set -e
${mounts.join("\n")}
mkdir -p /etc/systemd/system /etc/ssh
# The VM's host key (cloud-init makes it before user-data runs), and its serial console: a file.
printf '%s\n' ${JSON.stringify(`${HOST_KEY} root@ip-192-0-2-1`)} > /etc/ssh/ssh_host_ed25519_key.pub
: > ${work}/console && mount --bind ${work}/console /dev/console
# sudo resets PATH (secure_path): the readiness check's "sudo systemctl" must find the fake too.
real=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v systemctl || true)
if [ -n "$real" ]; then mount --bind ${fakes}/systemctl "$real"
else mkdir -p ${work}/usr_bin.upper ${work}/usr_bin.work && mount -t overlay overlay -o lowerdir=/usr/bin,upperdir=${work}/usr_bin.upper,workdir=${work}/usr_bin.work /usr/bin && cp ${fakes}/systemctl /usr/bin/systemctl; fi
mount --bind ${fakes}/openssl "$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v openssl)"
export PATH=${fakes}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
set +e
for i in $(seq ${runs}); do bash ${work}/userdata.sh > ${work}/out 2> ${work}/err; rc=$?; done
echo $rc > ${work}/rc
if [ -f ${work}/readiness.sh ]; then
  bash ${work}/readiness.sh < ${work}/stdin > ${work}/ready.out 2> ${work}/ready.err; echo $? > ${work}/ready.rc
fi
`;
        const startedAt = Date.now();
        const r = spawnSync("unshare", ["--mount", "--propagation", "private", "bash", "-c", driver], { encoding: "utf8", timeout: 60_000 });
        const endedAt = Date.now();
        assert.strictEqual(r.status, 0, `the namespace driver failed: ${r.stderr}`);
        const read = (f: string) => fs.readFileSync(path.join(work, f), "utf8");
        return {
            rc: Number(read("rc")),
            stdout: read("out"),
            stderr: read("err"),
            calls: fs.existsSync(log) ? read("calls.log").trim().split("\n") : [],
            written: (p: string) => {
                const d = OVERLAYS.find((o) => p.startsWith(`/${o}/`));
                assert.ok(d, `${p} is not under ${OVERLAYS.join(", ")}`);
                const f = path.join(work, `${d.replace(/\//g, "_")}.upper`, p.slice(d.length + 2));
                return fs.existsSync(f) ? f : undefined;
            },
            ready: readiness ? { rc: Number(read("ready.rc")), stdout: read("ready.out"), stderr: read("ready.err") } : undefined,
            console: read("console"),
            startedAt,
            endedAt,
        };
    }

    const mode = (f: string) => fs.statSync(f).mode & 0o777;
    const onCalendar = (b: Boot) => /^OnCalendar=(.*)$/m.exec(fs.readFileSync(b.written("/etc/systemd/system/pulumi-buildx-ttl.timer")!, "utf8"))?.[1];
    const tls = (patch: Partial<UserDataOptions> = {}): UserDataOptions =>
        ({
            transport: "tls",
            arch: "arm64",
            sshUser: "builder",
            sshPublicKey: PUBLIC_KEY,
            ttlMinutes: 45,
            buildkitVersion: "v0.16.0",
            port: 1234,
            caCertPem: CA,
            serverCertPem: CERT,
            ...patch,
        }) as UserDataOptions;

    it("tls: arms the TTL first, creates the user, installs buildkitd and its units; readiness delivers the key and reads the deadline back", () => {
        const readiness = renderReadinessCheck({
            transport: "tls",
            nodeName: "arm",
            endpoint: "tcp://192.0.2.1:1234",
            timeoutMinutes: 1,
            served: { port: 1234, serverName: "buildkitd.pulumi-buildx.internal" },
        });
        const b = boot(renderUserData(tls()), { script: readiness, stdin: KEY });
        assert.strictEqual(b.rc, 0, b.stderr);

        // TTL: written and armed before anything else, with an absolute deadline 45 minutes ahead.
        assert.deepStrictEqual(b.calls.slice(0, 2), ["systemctl daemon-reload", "systemctl enable --now pulumi-buildx-ttl.timer"]);
        const deadline = Date.parse(onCalendar(b)!.replace(" UTC", "Z").replace(" ", "T"));
        assert.ok(deadline >= Math.floor(b.startedAt / 1000) * 1000 + 45 * 60_000 && deadline <= b.endedAt + 45 * 60_000, `deadline ${onCalendar(b)}`);
        assert.match(fs.readFileSync(b.written("/etc/systemd/system/pulumi-buildx-ttl.timer")!, "utf8"), /^Persistent=true$/m);
        assert.match(
            fs.readFileSync(b.written("/etc/systemd/system/pulumi-buildx-ttl.service")!, "utf8"),
            /^ExecStart=\/usr\/bin\/systemctl --no-block poweroff$/m,
        );
        assert.match(b.stdout, /this node powers off at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);

        // The host key, on the serial console (and in the setup log), as the deployer reads it back.
        assert.strictEqual(hostKeyFromConsole(b.console), HOST_KEY, b.console);
        assert.strictEqual(hostKeyFromConsole(b.stdout), HOST_KEY);

        // The login user: really created, with the key (0600), passwordless sudo (0440), group buildkit.
        const passwd = fs.readFileSync(b.written("/etc/passwd")!, "utf8");
        assert.match(passwd, /^builder:x:\d+:\d+::\/home\/builder:\/bin\/bash$/m);
        const keys = b.written("/home/builder/.ssh/authorized_keys")!;
        assert.strictEqual(fs.readFileSync(keys, "utf8"), `${PUBLIC_KEY}\n`);
        assert.strictEqual(mode(keys), 0o600);
        assert.strictEqual(mode(path.dirname(keys)), 0o700);
        const sudoers = b.written("/etc/sudoers.d/90-pulumi-buildx")!;
        assert.strictEqual(fs.readFileSync(sudoers, "utf8"), "builder ALL=(ALL) NOPASSWD:ALL\n");
        assert.strictEqual(mode(sudoers), 0o440);
        assert.match(fs.readFileSync(b.written("/etc/group")!, "utf8"), /^buildkit:x:\d+:builder$/m);

        // buildkitd: the release of the arch, unpacked; certificates (public) in place, no key yet from user-data.
        assert.ok(
            b.calls.some(
                (c) => c.startsWith("curl ") && c.endsWith(" https://github.com/moby/buildkit/releases/download/v0.16.0/buildkit-v0.16.0.linux-arm64.tar.gz"),
            ),
            b.calls.join("\n"),
        );
        assert.ok(b.written("/usr/local/bin/buildkitd"));
        assert.strictEqual(fs.readFileSync(b.written("/etc/buildkit/tls/ca.pem")!, "utf8"), CA);
        assert.strictEqual(fs.readFileSync(b.written("/etc/buildkit/tls/cert.pem")!, "utf8"), CERT);
        assert.strictEqual(mode(b.written("/etc/buildkit/tls")!), 0o700);
        const service = fs.readFileSync(b.written("/etc/systemd/system/buildkitd.service")!, "utf8");
        assert.match(service, /^ConditionPathExists=\/etc\/buildkit\/tls\/key\.pem$/m);
        assert.match(service, /^ExecStart=\/usr\/local\/bin\/buildkitd .*--addr tcp:\/\/0\.0\.0\.0:1234 .*--tlskey \/etc\/buildkit\/tls\/key\.pem/m);
        assert.match(fs.readFileSync(b.written("/etc/systemd/system/buildkitd.path")!, "utf8"), /^PathExists=\/etc\/buildkit\/tls\/key\.pem$/m);
        assert.ok(
            b.calls.includes("systemctl enable buildkitd.service buildkitd.path") && b.calls.includes("systemctl start buildkitd.path"),
            b.calls.join("\n"),
        );

        // Readiness: the key is installed root-only, buildkitd restarted to load it, and the deadline read back.
        assert.strictEqual(b.ready!.rc, 0, b.ready!.stderr);
        const key = b.written("/etc/buildkit/tls/key.pem")!;
        assert.strictEqual(fs.readFileSync(key, "utf8"), KEY);
        assert.strictEqual(mode(key), 0o600);
        assert.strictEqual(b.calls[b.calls.length - 3], "systemctl cat buildkitd.service");
        assert.strictEqual(b.calls[b.calls.length - 2], "systemctl restart buildkitd.service");
        // Then the served certificate, against the CA user-data wrote and the server name.
        assert.match(
            b.calls[b.calls.length - 1],
            /^openssl s_client -connect 127\.0\.0\.1:1234 -servername buildkitd\.pulumi-buildx\.internal .*-CAfile \/etc\/buildkit\/tls\/ca\.pem -verify_return_error/,
        );
        const report = parseReadiness(b.ready!.stdout);
        assert.strictEqual(report.version, "v0.16.0");
        assert.strictEqual(Date.parse(report.expiresAt), deadline);
        assert.ok(!`${b.stdout}${b.stderr}${b.ready!.stdout}${b.ready!.stderr}`.includes("Qk9PVC1URVNULUtFWQ"), "the key was printed");
    });

    it("the TTL holds even when the rest of the setup fails (a wrong BuildKit checksum, a failing useradd): nothing unverified is unpacked", () => {
        const b = boot(renderUserData(tls({ buildkitSha256: "0".repeat(64) } as Partial<UserDataOptions>)));
        assert.notStrictEqual(b.rc, 0);
        assert.match(b.stderr, /checksum did NOT match/);
        assert.deepStrictEqual(b.calls.slice(0, 2), ["systemctl daemon-reload", "systemctl enable --now pulumi-buildx-ttl.timer"]);
        assert.ok(onCalendar(b));
        assert.strictEqual(b.written("/usr/local/bin/buildkitd"), undefined, "an unverified tarball was unpacked");
        // A failure at the very first step after it (creating the user) leaves the TTL armed too.
        fs.rmSync(work, { recursive: true, force: true });
        work = fs.mkdtempSync(path.join(os.tmpdir(), "boot-"));
        const noUser = boot(renderUserData(tls()), undefined, 1, ["useradd"]);
        assert.notStrictEqual(noUser.rc, 0);
        assert.match(noUser.stderr, /useradd: simulated failure/);
        assert.deepStrictEqual(noUser.calls, [
            "systemctl daemon-reload",
            "systemctl enable --now pulumi-buildx-ttl.timer",
            "useradd --create-home --shell /bin/bash builder",
        ]);
        assert.ok(onCalendar(noUser));
        // And with the right checksum it is unpacked.
        const sha = crypto.createHash("sha256").update(fs.readFileSync(tarball)).digest("hex");
        fs.rmSync(work, { recursive: true, force: true });
        work = fs.mkdtempSync(path.join(os.tmpdir(), "boot-"));
        const ok = boot(renderUserData(tls({ buildkitSha256: sha } as Partial<UserDataOptions>)));
        assert.strictEqual(ok.rc, 0, ok.stderr);
        assert.ok(ok.written("/usr/local/bin/buildkitd"));
    });

    it("ssh, TTL disabled, run twice: no timer, docker of the pinned version, ec2-user in docker, the key once", () => {
        const b = boot(
            renderUserData({ transport: "ssh", arch: "amd64", sshUser: "ec2-user", sshPublicKey: PUBLIC_KEY, ttlMinutes: 0, dockerVersion: "25.0.8" }),
            undefined,
            2,
        );
        assert.strictEqual(b.rc, 0, b.stderr);
        assert.strictEqual(b.written("/etc/systemd/system/pulumi-buildx-ttl.timer"), undefined);
        assert.ok(!b.calls.some((c) => c.includes("ttl")), b.calls.join("\n"));
        assert.deepStrictEqual(
            b.calls.filter((c) => c.startsWith("dnf")),
            ["dnf install -y docker-25.0.8", "dnf install -y docker-25.0.8"],
        );
        assert.ok(b.calls.includes("systemctl enable --now docker.service"));
        const group = fs.readFileSync(b.written("/etc/group") ?? "/etc/group", "utf8");
        assert.match(group, /^docker:x:\d+:(.*,)?ec2-user(,.*)?$/m);
        const keys = fs.readFileSync(b.written("/home/ec2-user/.ssh/authorized_keys")!, "utf8");
        assert.strictEqual(keys.split("\n").filter((l) => l === PUBLIC_KEY).length, 1, "the key is added once however often user-data runs");
        assert.strictEqual(b.written("/etc/sudoers.d/90-pulumi-buildx"), undefined, "an existing user keeps its own sudo setup");
    });
});
