/**
 * Ec2BuilderNode end to end, against the real test environment. No AWS API is reachable, so the
 * AWS resources are recorded by the harness and each EC2 instance is mapped to a
 * network-namespace test host; everything after that is real:
 * - `tls`: the instance's user-data is read for the CA and server certificates it would write
 *   (the certificates are real, made by the harness's TLS provider double), a real buildkitd on
 *   the stand-in host (ec2a, ec2b) uses them, and starts only once the component's readiness
 *   check has delivered the server key over a real SSH connection as ec2-user with sudo. buildx
 *   then appends both nodes with the client certificate and `servername` from `node.tls`.
 * - `ssh`: the instances map to node1 (this machine's engine) and node2 (its own engine); the
 *   readiness check logs in as ec2-user and checks Docker; buildx reaches both as
 *   `ssh://ec2-user@…` with the docker-container driver.
 * Each builds a two-platform image; digests are checked against the registry's own API and each
 * node's own build history says which platform it built.
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Builder } from "../../src/builder/component";
import { planDelete } from "../../src/builder/plan";
import { renderScript } from "../../src/shell";
import { MultiPlatformImage } from "../../src/image/component";
import { Ec2BuilderNode } from "../../src/nodes/ec2/component";
import { Ec2BuilderNodeArgs } from "../../src/nodes/ec2/args";
import { SERVER_NAME } from "../../src/nodes/ec2/pki";
import {
    answerAwsLookups,
    consoleText,
    ec2Api,
    HarnessSequence,
    installTlsProvider,
    loadTestEnv,
    madeUpHostKey,
    RegistryClient,
    runProgram,
    TestEnv,
    unwrap,
} from "../harness";
import { buildctlArgv, buildxNames, parseHistories, platformsBuilt, run } from "../harness/buildx";
import { Ec2Buildkitd, ec2HostsOf, resetEc2Host, startBuildkitdOnEc2Host, TestEc2Host, writeEc2HostFile } from "../harness/ec2host";

const UNAME: Record<string, string> = { "linux/amd64": "x86_64", "linux/arm64": "aarch64" };

/** The file contents user-data writes to `target` with `printf '%s' '…' > target` (quote() form: no `'` in PEMs). */
function userDataFile(userData: string, target: string): string {
    const m = new RegExp(`printf '%s' '([^']*)' > ${target.replace(/[./]/g, "\\$&")}\\n`).exec(userData);
    assert.ok(m, `user-data writes no ${target}`);
    return m[1];
}

describe("Ec2BuilderNode end to end (instances mapped to test hosts)", function () {
    this.timeout(15 * 60_000);
    let env: TestEnv;
    let hosts: TestEc2Host[];
    let ctx: string;
    let sshPublicKey: string;
    let sshPrivateKey: string;
    const daemons: Ec2Buildkitd[] = [];
    // Each instance's console (the stand-in EC2 API's GetConsoleOutput) shows the real host key of
    // the stand-in its address maps to, as the VM's user-data prints it.
    const harnesses = new HarnessSequence("ec2-it", (h) => {
        installTlsProvider(h);
        answerAwsLookups(h, [], { knownHosts: hosts[0].ssh.knownHosts });
    });
    const made: string[] = [];
    const suffix = `${process.pid.toString(36)}${Date.now().toString(36)}`;
    const newHarness = () => harnesses.next();

    const nodeArgs = (arch: "arm64" | "amd64", transport: "ssh" | "tls", extra: Partial<Ec2BuilderNodeArgs> = {}): Ec2BuilderNodeArgs => ({
        arch,
        transport,
        allowedCidrs: [env.bridge.cidr],
        sshPublicKey,
        sshPrivateKey,
        ttlMinutes: 30,
        readyTimeoutMinutes: 3,
        ...extra,
    });

    before(() => {
        env = loadTestEnv();
        hosts = ec2HostsOf(env);
        sshPrivateKey = fs.readFileSync(env.nodes[0].ssh.privateKey, "utf8");
        sshPublicKey = fs.readFileSync(`${env.nodes[0].ssh.privateKey}.pub`, "utf8").trim();
        ctx = fs.mkdtempSync(path.join(os.tmpdir(), "ec2-ctx-"));
        fs.writeFileSync(path.join(ctx, "Dockerfile"), `FROM ${env.baseImage}\nARG MARK\nRUN echo "$MARK" > /mark.txt && uname -m > /arch.txt\n`);
    });
    afterEach(async () => {
        harnesses.disposeAll();
        for (const d of daemons.splice(0)) await d.stop();
        hosts.forEach(resetEc2Host);
    });
    after(() => {
        for (const name of made) spawnSync("bash", ["-c", renderScript(planDelete(name))], { stdio: "ignore" });
        fs.rmSync(ctx, { recursive: true, force: true });
    });

    it("tls: two nodes with the certificates they generated, appended to one remote builder, build natively; digests match the registry", async () => {
        const harness = await newHarness();
        const byInstance: Record<string, TestEc2Host> = { "arm-instance": hosts[0], "amd-instance": hosts[1] };
        // The "boot": user-data's CA and server certificate land on the host, and its buildkitd
        // waits for the key (the VM's buildkitd.path unit).
        harness.override("aws:ec2/instance:Instance", (args, inputs) => {
            const host = byInstance[args.name];
            assert.ok(host, `no test host for ${args.name}`);
            const userData: string = inputs.userData;
            assert.ok(!userData.includes("PRIVATE KEY"), "user-data carries a private key");
            writeEc2HostFile(host, "tls/ca.pem", userDataFile(userData, "/etc/buildkit/tls/ca.pem"));
            writeEc2HostFile(host, "tls/cert.pem", userDataFile(userData, "/etc/buildkit/tls/cert.pem"));
            daemons.push(startBuildkitdOnEc2Host(host));
            return { publicIp: host.address, privateIp: host.address };
        });

        const name = `bx-ec2tls-${suffix}`;
        made.push(name);
        const mark = `tls-${suffix}`;
        const repo = "ec2/tls";
        const tag = `t-${suffix}`;
        let arm: Ec2BuilderNode | undefined;
        let amd: Ec2BuilderNode | undefined;
        let builder: Builder | undefined;
        const { result, errors } = await runProgram(harness, () => {
            arm = new Ec2BuilderNode("arm", nodeArgs("arm64", "tls"));
            amd = new Ec2BuilderNode("amd", nodeArgs("amd64", "tls"));
            builder = new Builder("fleet", { name, driver: arm.driver, nodes: [amd.node, arm.node] });
            return new MultiPlatformImage("app", {
                builder,
                context: ctx,
                platforms: ["linux/amd64", "linux/arm64"],
                tags: [`${env.registry.host}/${repo}:${tag}`],
                buildArgs: { MARK: mark },
            });
        });
        assert.deepStrictEqual(
            errors.map((e) => e.message),
            [],
            daemons.map((d) => d.log()).join("\n"),
        );

        // The nodes' outputs.
        assert.strictEqual(await unwrap(arm!.endpoint), `tcp://${hosts[0].address}:1234`);
        assert.strictEqual(await unwrap(amd!.endpoint), `tcp://${hosts[1].address}:1234`);
        assert.strictEqual(await unwrap(arm!.platform), "linux/arm64");
        // The host key the connection verified is the stand-in's own (its line in known_hosts).
        const knownHosts = fs.readFileSync(hosts[0].ssh.knownHosts, "utf8");
        assert.ok(
            knownHosts.includes(`${hosts[0].address} ${await unwrap(arm!.sshHostKey)}\n`),
            `${await unwrap(arm!.sshHostKey)} is not ${hosts[0].name}'s key`,
        );
        assert.strictEqual(harness.named("arm-ready").inputs.connection.hostKey, await unwrap(arm!.sshHostKey));
        assert.match(harness.logText(), /BuildKit answers on node arm \(tcp:\/\/10\.213\.77\.13:1234\)/);
        assert.match(
            harness.logText(),
            /node arm \(tcp:\/\/10\.213\.77\.13:1234\) serves a certificate for buildkitd\.pulumi-buildx\.internal signed by its CA/,
        );

        // The server key reached each host only over SSH: root-owned 0600 file, nowhere in plain state or logs.
        for (const [i, prefix] of ["arm", "amd"].entries()) {
            const keyFile = path.join(hosts[i].etcBuildkit, "tls", "key.pem");
            assert.strictEqual(fs.statSync(keyFile).mode & 0o777, 0o600);
            const delivered = fs.readFileSync(keyFile, "utf8");
            assert.match(delivered, /-----BEGIN EC PRIVATE KEY-----/);
            const keyLine = delivered.split("\n")[1];
            assert.deepStrictEqual(harness.leaks(keyLine), [], `${prefix}'s server key leaked`);
            assert.ok(harness.named(`${prefix}-ready`).secretPaths.includes("stdin"));
            const clientKeyLine = String(await unwrap((prefix === "arm" ? arm : amd)!.node.tls!.key)).split("\n")[1];
            assert.deepStrictEqual(harness.leaks(clientKeyLine), [], `${prefix}'s client key leaked`);
        }

        // buildx's view: both nodes running, each pinned to its platform.
        const nodes = await unwrap(builder!.nodes);
        assert.deepStrictEqual(
            nodes.map((n) => [n.name, n.endpoint, n.status, n.pinnedPlatforms]),
            [
                ["amd", `tcp://${hosts[1].address}:1234`, "running", ["linux/amd64"]],
                ["arm", `tcp://${hosts[0].address}:1234`, "running", ["linux/arm64"]],
            ],
        );

        // Each node's own history, read with the generated client certificate and the server name.
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ec2-client-"));
        const tlsFiles = { ca: path.join(tmp, "ca.pem"), cert: path.join(tmp, "cert.pem"), key: path.join(tmp, "key.pem"), serverName: SERVER_NAME };
        try {
            for (const [i, node, platform] of [
                [0, arm!, "linux/arm64"],
                [1, amd!, "linux/amd64"],
            ] as const) {
                const files = { ca: await unwrap(node.node.tls!.ca), cert: await unwrap(node.node.tls!.cert), key: await unwrap(node.node.tls!.key) };
                for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(tmp, `${f}.pem`), String(text), { mode: 0o600 });
                const [buildctl, ...histories] = buildctlArgv(`tcp://${hosts[i].address}:1234`, tlsFiles, "debug", "histories", "--format", "{{json .}}");
                const out = execFileSync(buildctl, histories, { encoding: "utf8", timeout: 60_000 });
                assert.deepStrictEqual(platformsBuilt(parseHistories(out), mark), [platform], `${hosts[i].name} built ${platform} only`);
                // The other node's client certificate does not open this node (a CA per node).
                const other = i === 0 ? amd! : arm!;
                fs.writeFileSync(path.join(tmp, "cert.pem"), String(await unwrap(other.node.tls!.cert)));
                fs.writeFileSync(path.join(tmp, "key.pem"), String(await unwrap(other.node.tls!.key)));
                const refused = run(buildctlArgv(`tcp://${hosts[i].address}:1234`, tlsFiles, "--timeout", "10", "debug", "workers"));
                assert.notStrictEqual(refused.code, 0, `${hosts[i].name} accepted the other node's client certificate`);
            }
        } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
        }

        // The registry agrees.
        const registry = new RegistryClient({ url: env.registry.url, caCert: env.caCert });
        const fromRegistry = await registry.platformsOf(repo, tag);
        assert.strictEqual(await unwrap(result!.digest), fromRegistry.digest);
        const platformDigests = await unwrap(result!.platformDigests);
        assert.deepStrictEqual(platformDigests, fromRegistry.platforms);
        for (const platform of ["linux/amd64", "linux/arm64"]) {
            assert.strictEqual(await registry.readFile(repo, platformDigests[platform], "arch.txt"), `${UNAME[platform]}\n`);
        }

        await harness.destroy();
        assert.ok(!buildxNames().includes(name), "buildx still lists the builder");
    });

    it("ssh: two nodes reached as ssh://ec2-user@host by the docker-container driver; each engine builds its platform", async () => {
        const [node1, node2] = env.nodes;
        const image = node2.docker?.buildkitImage;
        assert.ok(image && env.buildkitImage, "env.json lists no BuildKit image (buildkitImage, nodes[1].docker): run scripts/test-env.sh up");
        const harness = await newHarness();
        const byInstance: Record<string, string> = { "sarm-instance": node2.address, "samd-instance": node1.address };
        harness.override("aws:ec2/instance:Instance", (args) => ({ publicIp: byInstance[args.name], privateIp: byInstance[args.name] }));

        const name = `bx-ec2ssh-${suffix}`;
        made.push(name);
        const mark = `ssh-${suffix}`;
        const repo = "ec2/ssh";
        const tag = `t-${suffix}`;
        let sarm: Ec2BuilderNode | undefined;
        let builder: Builder | undefined;
        const { result, errors } = await runProgram(harness, () => {
            sarm = new Ec2BuilderNode("sarm", nodeArgs("arm64", "ssh", { buildkitImage: image }));
            const samd = new Ec2BuilderNode("samd", nodeArgs("amd64", "ssh", { buildkitImage: image }));
            // The test hosts' engines have no NAT to the registry's bridge address: host networking.
            const hostNet = (n: Ec2BuilderNode) => ({ ...n.node, driverOpts: { ...n.node.driverOpts, network: "host" } });
            builder = new Builder("sfleet", {
                name,
                driver: sarm.driver,
                nodes: [hostNet(samd), hostNet(sarm)],
                buildkitdConfig: `[registry."${env.registry.host}"]\n  ca = ["${env.caCert}"]\n`,
            });
            return new MultiPlatformImage("sapp", {
                builder,
                context: ctx,
                platforms: ["linux/amd64", "linux/arm64"],
                tags: [`${env.registry.host}/${repo}:${tag}`],
                buildArgs: { MARK: mark },
            });
        });
        assert.deepStrictEqual(
            errors.map((e) => e.message),
            [],
        );
        assert.strictEqual(await unwrap(sarm!.endpoint), `ssh://ec2-user@${node2.address}`);
        assert.match(harness.logText(), /Docker answers on node sarm \(ssh:\/\/ec2-user@10\.213\.77\.12\)/);
        const nodes = await unwrap(builder!.nodes);
        assert.deepStrictEqual(
            nodes.map((n) => [n.name, n.endpoint, n.status, n.pinnedPlatforms]),
            [
                ["samd", `ssh://ec2-user@${node1.address}`, "running", ["linux/amd64"]],
                ["sarm", `ssh://ec2-user@${node2.address}`, "running", ["linux/arm64"]],
            ],
        );

        // node2's engine runs sarm's BuildKit container, whose history has the arm64 build only.
        const onNode2 = { ...process.env, DOCKER_HOST: node2.docker!.host };
        const histories = run(["docker", "exec", "buildx_buildkit_sarm", "buildctl", "debug", "histories", "--format", "{{json .}}"], onNode2);
        assert.strictEqual(histories.code, 0, histories.stderr);
        assert.deepStrictEqual(platformsBuilt(parseHistories(histories.stdout), mark), ["linux/arm64"]);
        const local = run(["docker", "exec", "buildx_buildkit_samd", "buildctl", "debug", "histories", "--format", "{{json .}}"]);
        assert.strictEqual(local.code, 0, local.stderr);
        assert.deepStrictEqual(platformsBuilt(parseHistories(local.stdout), mark), ["linux/amd64"]);

        const registry = new RegistryClient({ url: env.registry.url, caCert: env.caCert });
        const fromRegistry = await registry.platformsOf(repo, tag);
        const platformDigests = await unwrap(result!.platformDigests);
        assert.deepStrictEqual(platformDigests, fromRegistry.platforms);
        assert.strictEqual(await registry.readFile(repo, platformDigests["linux/arm64"], "arch.txt"), "aarch64\n");

        await harness.destroy();
        assert.ok(!buildxNames().includes(name));
        assert.doesNotMatch(run(["docker", "ps", "-a", "--format", "{{.Names}}"], onNode2).stdout, /buildx_buildkit_sarm/);
    });

    it("an SSH server whose host key is not the one on the instance's console is refused before the server key is sent", async () => {
        const harness = await newHarness();
        // The console (out of band) shows another key than ec2a's sshd presents: someone else
        // answers at the instance's address.
        answerAwsLookups(harness, [], { console: (instance) => consoleText(instance, madeUpHostKey("the real VM")) });
        // The "boot" on ec2a: user-data's certificates, and a buildkitd waiting for the key.
        const boot = (_args: unknown, inputs: Record<string, any>) => {
            writeEc2HostFile(hosts[0], "tls/ca.pem", userDataFile(inputs.userData, "/etc/buildkit/tls/ca.pem"));
            writeEc2HostFile(hosts[0], "tls/cert.pem", userDataFile(inputs.userData, "/etc/buildkit/tls/cert.pem"));
            daemons.push(startBuildkitdOnEc2Host(hosts[0]));
            return { publicIp: hosts[0].address, privateIp: hosts[0].address };
        };
        harness.override("aws:ec2/instance:Instance", boot);
        const callsBefore = ec2Api.calls.length;
        const { errors } = await runProgram(harness, () => new Ec2BuilderNode("mitm", nodeArgs("arm64", "tls")));
        const message = errors.map((e) => e.message).join("\n");
        assert.match(message, /mitm-ready: .*ssh: handshake failed: ssh: host key mismatch/);
        assert.ok(
            ec2Api.calls.slice(callsBefore).some((c) => c.instanceId === "mitm-instance-id"),
            "the console was not read",
        );
        assert.strictEqual(harness.named("mitm-ready").inputs.connection.hostKey, madeUpHostKey("the real VM"));
        // Nothing reached the impostor: no key file, no buildkitd, no session output.
        assert.ok(!fs.existsSync(path.join(hosts[0].etcBuildkit, "tls", "key.pem")), "the server key reached the impostor");
        assert.match(daemons[daemons.length - 1].log(), /waiting for/);
        assert.doesNotMatch(daemons[daemons.length - 1].log(), /starting buildkitd/);
        assert.doesNotMatch(harness.logText(), /pulumi-buildx: waiting for/, "the readiness script ran on the impostor");

        // The same program against the key the console shows for ec2a gets through (the refusal
        // was the key's doing, not the host's).
        for (const d of daemons.splice(0)) await d.stop();
        const ok = await newHarness();
        ok.override("aws:ec2/instance:Instance", boot);
        const { errors: okErrors } = await runProgram(ok, () => new Ec2BuilderNode("mitm", nodeArgs("arm64", "tls")));
        assert.deepStrictEqual(
            okErrors.map((e) => e.message),
            [],
            daemons.map((d) => d.log()).join("\n"),
        );
        assert.ok(fs.existsSync(path.join(hosts[0].etcBuildkit, "tls", "key.pem")), "the verified host did not get the key");
    });

    it("tls: a certificate mistake (buildkitd serves a certificate its CA file did not sign) fails readiness, naming the node", async () => {
        const harness = await newHarness();
        harness.override("aws:ec2/instance:Instance", (_args, inputs) => {
            // The mistake: another CA on the VM than the one that signed the server certificate.
            writeEc2HostFile(hosts[0], "tls/ca.pem", fs.readFileSync(env.caCert, "utf8"));
            writeEc2HostFile(hosts[0], "tls/cert.pem", userDataFile(inputs.userData, "/etc/buildkit/tls/cert.pem"));
            daemons.push(startBuildkitdOnEc2Host(hosts[0]));
            return { publicIp: hosts[0].address, privateIp: hosts[0].address };
        });
        const { errors } = await runProgram(harness, () => new Ec2BuilderNode("badcert", nodeArgs("arm64", "tls")));
        const message = errors.map((e) => e.message).join("\n");
        assert.match(message, /BuildKit answers on node badcert/, "buildkitd itself ran");
        assert.match(
            message,
            /pulumi-buildx: node badcert \(tcp:\/\/10\.213\.77\.13:1234\): the certificate buildkitd serves on port 1234 does not verify against \/etc\/buildkit\/tls\/ca\.pem for buildkitd\.pulumi-buildx\.internal/,
        );
        assert.match(message, /verify error|Verification error/);
    });

    it("a node whose daemon never answers fails up after readyTimeoutMinutes, naming the node", async () => {
        const harness = await newHarness();
        // No buildkitd is started on the host: the key arrives, nothing answers.
        harness.override("aws:ec2/instance:Instance", () => ({ publicIp: hosts[0].address, privateIp: hosts[0].address }));
        const started = Date.now();
        const { errors } = await runProgram(harness, () => new Ec2BuilderNode("dead", nodeArgs("arm64", "tls", { readyTimeoutMinutes: 1 })));
        const message = errors.map((e) => e.message).join("\n");
        assert.match(
            message,
            /node dead \(tcp:\/\/10\.213\.77\.13:1234\): BuildKit did not answer within 1 min \(readyTimeoutMinutes\); last check said: .*(buildkitd\.sock|connect)/s,
        );
        assert.match(message, /--- daemon status ---/);
        assert.ok(Date.now() - started < 3 * 60_000, "the readiness check did not stop at its timeout");
    });
});
