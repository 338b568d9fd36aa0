import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync, spawnSync } from "child_process";
import { renderServerKeyInstall, renderUserData, TlsUserData, UserDataOptions } from "../../../../src/nodes/ec2/userdata";
import { expectGolden } from "../../../harness/golden";

const golden = (name: string, actual: string): void => expectGolden(path.join("nodes/ec2", name), actual);

/** Runs shellcheck on a script; fails (never skips) when shellcheck is not installed. */
function shellcheck(script: string): void {
    const run = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "-"], { input: script, encoding: "utf8" });
    if (run.error !== undefined) {
        assert.fail(`shellcheck could not run (${run.error.message}): install it (apt-get install -y shellcheck); these tests need it`);
    }
    assert.strictEqual(run.status, 0, `shellcheck found problems:\n${run.stdout}${run.stderr}`);
}

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHr1bK0e3VbYw0aJ9sQwE2m6c1n1g2hX7s9T6oZ0a9fB me@laptop";
const CERT = (cn: string) => `-----BEGIN CERTIFICATE-----\nMIIBfakeCertificateFor${cn}AAAA\nQUJDRA==\n-----END CERTIFICATE-----\n`;
const TLS: TlsUserData = {
    transport: "tls",
    arch: "amd64",
    sshUser: "ec2-user",
    sshPublicKey: KEY,
    ttlMinutes: 120,
    buildkitVersion: "v0.16.0",
    port: 1234,
    caCertPem: CERT("CA"),
    serverCertPem: CERT("buildkitd"),
};

const variants: [string, UserDataOptions][] = [
    ["arm64-ssh.sh", { transport: "ssh", arch: "arm64", sshUser: "ec2-user", sshPublicKey: KEY, ttlMinutes: 120, dockerVersion: "25.0.8" }],
    ["amd64-tls.sh", TLS],
    ["amd64-ssh-ttl0.sh", { transport: "ssh", arch: "amd64", sshUser: "builder", sshPublicKey: KEY, ttlMinutes: 0 }],
    ["arm64-tls-ttl0-sha256.sh", { ...TLS, arch: "arm64", ttlMinutes: 0, buildkitSha256: "0123456789abcdef".repeat(4), port: 8443 }],
];

describe("EC2 node user-data", () => {
    for (const [name, opts] of variants) {
        it(`matches golden/nodes/ec2/${name} and passes bash -n and shellcheck`, () => {
            const script = renderUserData(opts);
            golden(name, script);
            execFileSync("bash", ["-n", "-c", script]);
            shellcheck(script);
            assert.ok(script.startsWith("#!/bin/bash\n"), "cloud-init runs user-data with a shebang as a script");
            assert.doesNotMatch(script, /PRIVATE KEY/);
        });
    }

    it("the key-delivery script matches golden/nodes/ec2/server-key-install.sh and passes bash -n and shellcheck", () => {
        const script = renderServerKeyInstall();
        golden("server-key-install.sh", script);
        execFileSync("bash", ["-n", "-c", script]);
        shellcheck(`#!/bin/bash\n${script}`);
        assert.doesNotMatch(script, /-----BEGIN/, "the key comes on stdin, never in the command");
    });

    it("arms the TTL timer first, and only when ttlMinutes > 0", () => {
        const on = renderUserData({ ...TLS, ttlMinutes: 45 });
        assert.match(on, /deadline=\$\(date -u -d '\+45 minutes'/);
        assert.match(on, /OnCalendar=\$deadline/);
        assert.match(on, /systemctl enable --now pulumi-buildx-ttl\.timer/);
        assert.ok(on.indexOf("pulumi-buildx-ttl.timer") < on.indexOf("curl "), "the TTL is armed before anything that can fail");
        const off = renderUserData({ ...TLS, ttlMinutes: 0 });
        assert.doesNotMatch(off, /poweroff|OnCalendar|shutdown -h/);
        assert.match(off, /TTL disabled/);
    });

    it("tls: installs the certificates and waits for the key, which user-data never carries", () => {
        const script = renderUserData(TLS);
        assert.match(script, /https:\/\/github\.com\/moby\/buildkit\/releases\/download\/v0\.16\.0\/buildkit-v0\.16\.0\.linux-amd64\.tar\.gz/);
        assert.match(
            script,
            /--addr tcp:\/\/0\.0\.0\.0:1234 --tlscacert \/etc\/buildkit\/tls\/ca\.pem --tlscert \/etc\/buildkit\/tls\/cert\.pem --tlskey \/etc\/buildkit\/tls\/key\.pem/,
        );
        assert.match(script, /ConditionPathExists=\/etc\/buildkit\/tls\/key\.pem/);
        assert.match(script, /PathExists=\/etc\/buildkit\/tls\/key\.pem\nUnit=buildkitd\.service/);
        assert.ok(script.includes(CERT("CA")) && script.includes(CERT("buildkitd")));
        assert.doesNotMatch(script, /PRIVATE KEY/);
        assert.match(renderUserData({ ...TLS, arch: "arm64" }), /buildkit-v0\.16\.0\.linux-arm64\.tar\.gz/);
    });

    it("refuses to put a private key into user-data", () => {
        const key = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
        assert.throws(() => renderUserData({ ...TLS, serverCertPem: CERT("x") + key }), /serverCertPem contains a private key/);
        assert.throws(() => renderUserData({ ...TLS, caCertPem: "-----BEGIN EC PRIVATE KEY-----\n" }), /caCertPem contains a private key/);
        assert.throws(() => renderUserData({ ...TLS, caCertPem: "/path/to/ca.pem" }), /caCertPem is not a PEM certificate/);
    });

    it("ssh: installs Docker (pinned when asked) and puts the user in the docker group", () => {
        const pinned = renderUserData({ transport: "ssh", arch: "arm64", sshUser: "ec2-user", sshPublicKey: KEY, ttlMinutes: 0, dockerVersion: "25.0.8" });
        assert.match(pinned, /^dnf install -y docker-25\.0\.8$/m);
        assert.match(pinned, /^usermod -aG docker "\$ssh_user"$/m);
        const latest = renderUserData({ transport: "ssh", arch: "arm64", sshUser: "ec2-user", sshPublicKey: KEY, ttlMinutes: 0 });
        assert.match(latest, /^dnf install -y docker$/m);
        assert.doesNotMatch(latest, /buildkitd/);
    });

    it("quotes the public key so that its comment cannot run anything", () => {
        const hostile = `${KEY.split(" ").slice(0, 2).join(" ")} it's $(touch /tmp/pwned) \`id\` "x"`;
        const script = renderUserData({ transport: "ssh", arch: "arm64", sshUser: "ec2-user", sshPublicKey: hostile, ttlMinutes: 0 });
        const line = script.split("\n").find((l) => l.startsWith("ssh_public_key="))!;
        const value = execFileSync("bash", ["-c", `${line}\nprintf '%s' "$ssh_public_key"`], { encoding: "utf8" });
        assert.strictEqual(value, hostile);
        execFileSync("bash", ["-n", "-c", script]);
        assert.ok(!fs.existsSync("/tmp/pwned"));
    });

    it("refuses values of an unsafe shape (validation must run first)", () => {
        assert.throws(() => renderUserData({ ...TLS, sshUser: "x\nrm -rf /" }), /sshUser .* validate the arguments first/);
        assert.throws(() => renderUserData({ ...TLS, buildkitVersion: "v1; reboot" }), /buildkitVersion/);
        assert.throws(() => renderUserData({ ...TLS, sshPublicKey: `${KEY}\nssh-rsa AAAA other` }), /one line/);
        assert.throws(() => renderUserData({ ...TLS, ttlMinutes: -1 }), /non-negative integer/);
        assert.throws(
            () => renderUserData({ transport: "ssh", arch: "arm64", sshUser: "u", sshPublicKey: KEY, ttlMinutes: 0, dockerVersion: "1 && reboot" }),
            /dockerVersion/,
        );
        assert.throws(() => renderUserData({ ...TLS, transport: "ftp" } as never), /unknown transport "ftp"/);
    });
});
