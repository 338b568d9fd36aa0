/**
 * The EC2 stand-in hosts of the test environment (scripts/testenv/ec2hosts.sh) and the harness
 * that plays the VM on them (test/harness/ec2host.ts): ec2-user's SSH login and passwordless
 * sudo, the per-host /etc/buildkit and /run/buildkit, ec2-user's plain `docker` on the node
 * engines (also as buildx's ssh://ec2-user@ADDR), and a buildkitd that starts once the TLS key
 * is written over SSH and then serves mTLS on tcp://ADDR:1234.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    EC2_BUILDKITD_SOCKET,
    Ec2Buildkitd,
    ec2HostsOf,
    resetEc2Host,
    sshToEc2Host,
    startBuildkitdOnEc2Host,
    TestEc2Host,
    writeEc2HostFile,
} from "../harness/ec2host";
import { run as runArgv } from "../harness/buildx";
import { loadTestEnv, TestEnv } from "../harness/testenv";

const SERVER_NAME = "buildkitd.test.internal";

/** Runs argv with a 30 s timeout unless given. */
const run = (argv: string[], timeout = 30_000) => runArgv(argv, undefined, timeout);

/** A throwaway CA, a server certificate for SERVER_NAME only and a client certificate (EC P-256). */
function makePki(dir: string): { ca: string; cert: string; key: string; clientCert: string; clientKey: string } {
    const f = (n: string) => path.join(dir, n);
    const ossl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
    ossl(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=ec2host smoke CA",
        "-keyout",
        f("ca-key.pem"),
        "-out",
        f("ca.pem"),
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    );
    for (const [name, ext] of [
        ["server", `subjectAltName=DNS:${SERVER_NAME}\nextendedKeyUsage=serverAuth\n`],
        ["client", "extendedKeyUsage=clientAuth\n"],
    ]) {
        ossl(
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            `/CN=${name}`,
            "-keyout",
            f(`${name}-key.pem`),
            "-out",
            f(`${name}.csr`),
        );
        fs.writeFileSync(f(`${name}.ext`), ext);
        ossl(
            "x509",
            "-req",
            "-in",
            f(`${name}.csr`),
            "-CA",
            f("ca.pem"),
            "-CAkey",
            f("ca-key.pem"),
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            f(`${name}.ext`),
            "-out",
            f(`${name}.pem`),
        );
    }
    return { ca: f("ca.pem"), cert: f("server.pem"), key: f("server-key.pem"), clientCert: f("client.pem"), clientKey: f("client-key.pem") };
}

describe("test env: EC2 stand-in hosts (ec2-user, per-host /etc/buildkit, buildkitd on key)", function () {
    this.timeout(5 * 60_000);
    let env: TestEnv;
    let ec2a: TestEc2Host;
    let ec2b: TestEc2Host;
    let tmp: string;
    let bk: Ec2Buildkitd | undefined;

    before(() => {
        env = loadTestEnv();
        [ec2a, ec2b] = ec2HostsOf(env);
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ec2host-"));
    });
    after(async () => {
        await bk?.stop();
        if (ec2a) resetEc2Host(ec2a);
        if (ec2b) resetEc2Host(ec2b);
        if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("lets ec2-user (not root) log in with the test key, with passwordless sudo and the docker group", async () => {
        assert.strictEqual(env.ec2User, "ec2-user");
        for (const host of [ec2a, ec2b]) {
            assert.strictEqual(host.ssh.user, "ec2-user");
            const r = await sshToEc2Host(host, "id -un; id -nG; sudo -n id -u; sudo -n sh -c 'command -v buildctl'; echo \"DOCKER_HOST=${DOCKER_HOST:-}\"");
            assert.strictEqual(r.code, 0, `${host.name}: ${r.stderr}`);
            const [user, groups, rootUid, buildctl, dockerHost] = r.stdout.trim().split("\n");
            assert.strictEqual(user, "ec2-user");
            assert.ok(groups.split(" ").includes("docker"), `groups: ${groups}`);
            assert.strictEqual(rootUid, "0");
            assert.strictEqual(buildctl, path.join(env.path, "buildctl"));
            assert.strictEqual(dockerHost, "DOCKER_HOST=", "the EC2 stand-ins have no DOCKER_HOST");
            // Like Amazon Linux: no root logins.
            const root = run([
                "ssh",
                "-i",
                host.ssh.privateKey,
                "-o",
                "BatchMode=yes",
                "-o",
                `UserKnownHostsFile=${host.ssh.knownHosts}`,
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "ConnectTimeout=10",
                `root@${host.address}`,
                "true",
            ]);
            assert.strictEqual(root.code, 255, `root logged in to ${host.name}`);
        }
    });

    it("gives each host its own /etc/buildkit and /run/buildkit", async () => {
        const name = `smoke-${process.pid}-${crypto.randomBytes(4).toString("hex")}`;
        const token = crypto.randomBytes(8).toString("hex");
        const w = await sshToEc2Host(
            ec2a,
            `sudo -n install -d -m 0755 /etc/buildkit/smoke && sudo -n tee /etc/buildkit/smoke/${name} >/dev/null && sudo -n touch /run/buildkit/${name}`,
            token,
        );
        assert.strictEqual(w.code, 0, w.stderr);
        try {
            assert.strictEqual(fs.readFileSync(path.join(ec2a.etcBuildkit, "smoke", name), "utf8"), token);
            assert.strictEqual(fs.statSync(path.join(ec2a.etcBuildkit, "smoke", name)).uid, 0);
            assert.ok(fs.existsSync(path.join(ec2a.runBuildkit, name)));
            for (const elsewhere of [
                path.join(ec2b.etcBuildkit, "smoke", name),
                `/etc/buildkit/smoke/${name}`,
                path.join(ec2b.runBuildkit, name),
                `/run/buildkit/${name}`,
            ]) {
                assert.ok(!fs.existsSync(elsewhere), `${elsewhere} exists`);
            }
            const seen = await sshToEc2Host(ec2b, `test ! -e /etc/buildkit/smoke/${name} && test ! -e /run/buildkit/${name} && echo absent`);
            assert.strictEqual(seen.stdout.trim(), "absent", seen.stderr);
            const back = await sshToEc2Host(ec2a, `cat /etc/buildkit/smoke/${name}`);
            assert.strictEqual(back.stdout, token);
        } finally {
            fs.rmSync(path.join(ec2a.etcBuildkit, "smoke"), { recursive: true, force: true });
            fs.rmSync(path.join(ec2a.runBuildkit, name), { force: true });
        }
    });

    it("lets ec2-user reach the node engines with plain docker, also as docker -H ssh://ec2-user@ADDR", () => {
        const node1 = env.nodes.find((n) => n.name === "node1")!;
        const node2 = env.nodes.find((n) => n.docker)!;
        const rootDir = (host?: string) => {
            const r = run(["docker", ...(host ? ["-H", host] : []), "info", "--format", "{{.DockerRootDir}}"], 60_000);
            assert.strictEqual(r.code, 0, `docker -H ${host}: ${r.stderr}`);
            return r.stdout.trim();
        };
        const main = rootDir();
        const own = rootDir(node2.docker!.host);
        assert.notStrictEqual(main, own);
        // Root's ssh config says `User root` for the node addresses: the explicit user wins.
        assert.strictEqual(rootDir(`ssh://ec2-user@${node2.address}`), own);
        assert.strictEqual(rootDir(`ssh://ec2-user@${node1.address}`), main);
        const viaSudo = run([
            "ssh",
            "-i",
            node2.ssh.privateKey,
            "-o",
            "BatchMode=yes",
            `ec2-user@${node2.address}`,
            "sudo -n docker info --format '{{.DockerRootDir}}'",
        ]);
        assert.strictEqual(viaSudo.stdout.trim(), own, `sudo keeps DOCKER_HOST: ${viaSudo.stderr}`);
    });

    it("runs buildkitd on the host once the key is written over ssh with sudo, serving mTLS on tcp://ADDR:1234", async () => {
        const pki = makePki(tmp);
        const endpoint = `tcp://${ec2a.address}:${ec2a.buildkitd.port}`;
        const buildctl = (addr: string, ...tls: string[]) => run(["buildctl", "--addr", addr, ...tls, "debug", "workers"], 20_000);
        const mtls = ["--tlsservername", SERVER_NAME, "--tlscacert", pki.ca, "--tlscert", pki.clientCert, "--tlskey", pki.clientKey];

        resetEc2Host(ec2a);
        writeEc2HostFile(ec2a, "tls/ca.pem", fs.readFileSync(pki.ca));
        writeEc2HostFile(ec2a, "tls/cert.pem", fs.readFileSync(pki.cert));
        bk = startBuildkitdOnEc2Host(ec2a);

        // No key yet: buildkitd waits, nothing listens.
        await new Promise((r) => setTimeout(r, 1500));
        assert.ok(bk.running(), `exited early:\n${bk.log()}`);
        assert.match(bk.log(), /waiting for \/etc\/buildkit\/tls\/key\.pem/);
        assert.notStrictEqual(buildctl(endpoint, ...mtls).code, 0, "buildkitd answered before the key was written");

        // What the component's readiness check does: the key over ssh, as root through sudo, 0600.
        const put = await sshToEc2Host(
            ec2a,
            "set -e; sudo -n install -d -m 0755 /etc/buildkit/tls; sudo -n install -m 0600 /dev/null /etc/buildkit/tls/key.pem.tmp; " +
                "sudo -n tee /etc/buildkit/tls/key.pem.tmp >/dev/null; sudo -n mv /etc/buildkit/tls/key.pem.tmp /etc/buildkit/tls/key.pem",
            fs.readFileSync(pki.key, "utf8"),
        );
        assert.strictEqual(put.code, 0, put.stderr);
        const keyStat = fs.statSync(path.join(ec2a.etcBuildkit, "tls", "key.pem"));
        assert.strictEqual(keyStat.mode & 0o777, 0o600);
        assert.strictEqual(keyStat.uid, 0);

        let last = buildctl(endpoint, ...mtls);
        for (let i = 0; i < 120 && last.code !== 0; i++) {
            assert.ok(bk.running(), `buildkitd exited:\n${bk.log()}`);
            await new Promise((r) => setTimeout(r, 500));
            last = buildctl(endpoint, ...mtls);
        }
        assert.strictEqual(last.code, 0, `buildctl over mTLS: ${last.stderr}\n--- log ---\n${bk.log()}`);
        assert.match(last.stdout, /linux\/amd64/);

        // mTLS for real: no client certificate, no answer.
        assert.notStrictEqual(buildctl(endpoint, "--tlsservername", SERVER_NAME, "--tlscacert", pki.ca).code, 0, "answered without a client certificate");
        // The unix socket is on ec2a (what the readiness check polls), not on ec2b nor this machine.
        const local = await sshToEc2Host(ec2a, `sudo -n buildctl --addr unix://${EC2_BUILDKITD_SOCKET} debug workers`);
        assert.strictEqual(local.code, 0, local.stderr);
        assert.ok(fs.existsSync(path.join(ec2a.runBuildkit, "buildkitd.sock")));
        assert.ok(!fs.existsSync(EC2_BUILDKITD_SOCKET), `${EC2_BUILDKITD_SOCKET} exists on this machine`);
        const other = await sshToEc2Host(ec2b, `sudo -n buildctl --addr unix://${EC2_BUILDKITD_SOCKET} debug workers`);
        assert.notStrictEqual(other.code, 0, "ec2b answered on ec2a's socket path");
        assert.notStrictEqual(buildctl(`tcp://${ec2b.address}:${ec2b.buildkitd.port}`, ...mtls).code, 0, "ec2b serves buildkitd");

        await bk.stop();
        assert.ok(!bk.running());
        assert.ok(!fs.existsSync(path.join(ec2a.etcBuildkit, "tls")), "stop() left /etc/buildkit/tls");
        assert.deepStrictEqual(fs.readdirSync(ec2a.runBuildkit), [], "stop() left files in /run/buildkit");
        assert.notStrictEqual(buildctl(endpoint, ...mtls).code, 0, "buildkitd still answers after stop()");
        bk = undefined;
    });
});
