/**
 * Builder against the real test environment: two network-namespace hosts, each with buildkitd
 * behind mTLS (remote driver) and sshd, node2 also with a Docker engine of its own
 * (docker-container driver over ssh://). Who built what is read from the nodes themselves
 * (BuildKit's build history through buildctl with the client certificate, or from inside the
 * node's BuildKit container), digests from the registry's own API.
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Builder } from "../../src/builder/component";
import { BuilderArgs, NodeTls } from "../../src/builder/args";
import { planDelete } from "../../src/builder/plan";
import { renderScript } from "../../src/shell";
import { tlsDirectory } from "../../src/builder/tls-files";
import { MultiPlatformImage } from "../../src/image/component";
import { HarnessSequence, loadTestEnv, RegistryClient, runProgram, TestEnv, TestNode, unwrap } from "../harness";
import { buildctlArgv, buildHistory, buildxNames, parseHistories, platformsBuilt, run } from "../harness/buildx";

/** What scripts/testenv/nodedocker.sh adds to env.json. */
const UNAME: Record<string, string> = { "linux/amd64": "x86_64", "linux/arm64": "aarch64" };

function tlsOf(node: TestNode): NodeTls {
    return { ca: fs.readFileSync(node.tls.ca, "utf8"), cert: fs.readFileSync(node.tls.cert, "utf8"), key: fs.readFileSync(node.tls.key, "utf8") };
}

/** Node names of an instance, from `docker buildx inspect` (not from our parser). */
function inspectNodeNames(name: string): string[] {
    const r = run(["docker", "buildx", "inspect", name]);
    assert.strictEqual(r.code, 0, r.stderr);
    const after = r.stdout.split("\nNodes:\n")[1] ?? "";
    return [...after.matchAll(/^Name:\s+(\S+)$/gm)].map((m) => m[1]);
}

function mode(p: string): string {
    return (fs.statSync(p).mode & 0o777).toString(8);
}

describe("Builder (real buildx with multi-node BuildKit)", function () {
    this.timeout(10 * 60_000);
    let env: TestEnv;
    let node1: TestNode;
    let node2: TestNode;
    let ctx: string;
    const harnesses = new HarnessSequence("builder-it");
    const made: string[] = [];
    const suffix = `${process.pid.toString(36)}${Date.now().toString(36)}`;
    const newHarness = () => harnesses.next();

    const remoteNode = (name: string, node: TestNode, platform: string, tls: NodeTls = tlsOf(node)) => ({
        name,
        endpoint: node.buildkitEndpoint,
        platforms: [platform],
        tls,
    });

    before(() => {
        env = loadTestEnv();
        [node1, node2] = env.nodes;
        ctx = fs.mkdtempSync(path.join(os.tmpdir(), "builder-ctx-"));
        fs.writeFileSync(
            path.join(ctx, "Dockerfile"),
            `FROM ${env.baseImage}\nARG MARK\nRUN echo "$MARK" > /mark.txt && uname -m > /arch.txt && ip -4 addr > /addr.txt\n`,
        );
    });
    afterEach(() => harnesses.disposeAll());
    after(() => {
        // Whatever a failed test left behind.
        for (const name of made) spawnSync("bash", ["-c", renderScript(planDelete(name))], { stdio: "ignore" });
        fs.rmSync(ctx, { recursive: true, force: true });
    });

    it("remote driver: node1 builds linux/amd64, node2 linux/arm64, over mTLS; digests match the registry", async () => {
        const name = `bx-remote-${suffix}`;
        made.push(name);
        const mark = `mark-${suffix}`;
        const repo = "builder/remote";
        const tag = `t-${suffix}`;
        const key = fs.readFileSync(node1.tls.key, "utf8");
        const keyLine = key.split("\n")[1];

        // Watch every process's command line for the private key while the builder is created.
        const seenOnCmdline: string[] = [];
        let watching = true;
        const watcher = (async () => {
            while (watching) {
                for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
                    try {
                        if (fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(keyLine)) seenOnCmdline.push(pid);
                    } catch {
                        /* gone */
                    }
                }
                await new Promise((r) => setTimeout(r, 20));
            }
        })();

        const harness = await newHarness();
        let builder: Builder | undefined;
        const { result, errors } = await runProgram(harness, () => {
            builder = new Builder("fleet", {
                name,
                driver: "remote",
                nodes: [remoteNode("amd", node1, "linux/amd64"), remoteNode("arm", node2, "linux/arm64")],
            });
            return new MultiPlatformImage("app", {
                builder,
                context: ctx,
                platforms: ["linux/amd64", "linux/arm64"],
                tags: [`${env.registry.host}/${repo}:${tag}`],
                buildArgs: { MARK: mark },
            });
        });
        watching = false;
        await watcher;
        assert.deepStrictEqual(
            errors.map((e) => e.message),
            [],
        );

        // The builder's outputs: what buildx reports after bootstrap.
        assert.strictEqual(await unwrap(builder!.name), name);
        const nodes = await unwrap(builder!.nodes);
        assert.deepStrictEqual(
            nodes.map((n) => [n.name, n.endpoint, n.status, n.pinnedPlatforms]),
            [
                ["amd", node1.buildkitEndpoint, "running", ["linux/amd64"]],
                ["arm", node2.buildkitEndpoint, "running", ["linux/arm64"]],
            ],
        );
        const platforms = await unwrap(builder!.platforms);
        assert.ok(platforms.includes("linux/amd64") && platforms.includes("linux/arm64"), platforms.join(","));

        // The TLS files: private, owned by the builder, and the key never anywhere else.
        const dir = tlsDirectory(name);
        assert.strictEqual(mode(dir), "700");
        for (const [node, file] of [
            ["amd", "key.pem"],
            ["arm", "cert.pem"],
            ["arm", "ca.pem"],
        ]) {
            assert.strictEqual(mode(path.join(dir, node)), "700");
            assert.strictEqual(mode(path.join(dir, node, file)), "600");
        }
        assert.strictEqual(fs.readFileSync(path.join(dir, "amd", "key.pem"), "utf8").trim(), key.trim());
        assert.deepStrictEqual(harness.leaks(keyLine), [], "the key appears in no plain input, output or log");
        assert.ok(!String(harness.named("fleet-instance").inputs.create).includes(keyLine));
        assert.deepStrictEqual(seenOnCmdline, [], "the key was on a process command line");

        // Each node says what it built: its own build history, read with the client certificate.
        const byNode = [node1, node2].map((n) => buildHistory(n).filter((r) => r.buildArgs.MARK === mark));
        assert.deepStrictEqual(
            byNode.map((records) => platformsBuilt(records, mark)),
            [["linux/amd64"], ["linux/arm64"]],
        );

        // The registry agrees with platformDigests, and each node's own result holds its platform's manifest.
        const registry = new RegistryClient({ url: env.registry.url, caCert: env.caCert });
        const fromRegistry = await registry.platformsOf(repo, tag);
        const image = result!;
        assert.strictEqual(await unwrap(image.digest), fromRegistry.digest);
        const platformDigests = await unwrap(image.platformDigests);
        assert.deepStrictEqual(platformDigests, fromRegistry.platforms);
        for (const [i, platform] of ["linux/amd64", "linux/arm64"].entries()) {
            const nodeResult = byNode[i][0].resultDigest!;
            const nodeIndex = await registry.platformsOf(repo, nodeResult);
            assert.deepStrictEqual(nodeIndex.platforms, { [platform]: platformDigests[platform] }, `node${i + 1}'s result is the ${platform} image`);
            assert.strictEqual(await registry.readFile(repo, platformDigests[platform], "arch.txt"), `${UNAME[platform]}\n`);
        }

        await harness.destroy();
        assert.ok(!buildxNames().includes(name), "buildx still lists the builder");
        assert.ok(!fs.existsSync(dir), "the TLS directory is still there");
    });

    it("mTLS is real: a client without a valid certificate is refused, and the failing node is named", async () => {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rogue-"));
        try {
            // The control: the environment's client certificate gets in.
            const good = run(buildctlArgv(node2.buildkitEndpoint, node2.tls, "--timeout", "10", "debug", "workers"));
            assert.strictEqual(good.code, 0, good.stderr);

            // A client with no certificate at all. (With TLS 1.3 the server's refusal arrives
            // after the client's handshake, so the client sees either the alert or a closed pipe.)
            const noCert = run(buildctlArgv(node2.buildkitEndpoint, { ca: node2.tls.ca }, "--timeout", "10", "debug", "workers"));
            assert.notStrictEqual(noCert.code, 0, "a client without a certificate got in");
            assert.match(noCert.stderr, /certificate required|bad certificate|broken pipe|connection reset/i);

            // A client whose certificate is signed by another CA.
            execFileSync(
                "openssl",
                [
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:prime256v1",
                    "-nodes",
                    "-subj",
                    "/CN=rogue",
                    "-days",
                    "1",
                    "-keyout",
                    path.join(tmp, "key.pem"),
                    "-out",
                    path.join(tmp, "cert.pem"),
                    "-addext",
                    "extendedKeyUsage=clientAuth",
                ],
                { stdio: "pipe" },
            );
            const rogue = run(
                buildctlArgv(
                    node2.buildkitEndpoint,
                    { ca: node2.tls.ca, cert: path.join(tmp, "cert.pem"), key: path.join(tmp, "key.pem") },
                    "--timeout",
                    "10",
                    "debug",
                    "workers",
                ),
            );
            assert.notStrictEqual(rogue.code, 0, "a client with a foreign certificate got in");
            assert.match(rogue.stderr, /certificate|tls|broken pipe|connection reset/i);

            // A builder whose second node presents that certificate: bootstrap fails naming the
            // node, its endpoint and buildx's error, and nothing is left half-made.
            const name = `bx-rogue-${suffix}`;
            made.push(name);
            const harness = await newHarness();
            const started = Date.now();
            const { errors } = await runProgram(
                harness,
                () =>
                    new Builder("rogue", {
                        name,
                        driver: "remote",
                        nodes: [
                            remoteNode("amd", node1, "linux/amd64"),
                            remoteNode("arm", node2, "linux/arm64", {
                                ca: tlsOf(node2).ca,
                                cert: fs.readFileSync(path.join(tmp, "cert.pem"), "utf8"),
                                key: fs.readFileSync(path.join(tmp, "key.pem"), "utf8"),
                            }),
                        ],
                    }),
            );
            const message = errors.map((e) => e.message).join("\n");
            assert.match(
                message,
                new RegExp(`node arm \\(${node2.buildkitEndpoint.replace(/[.]/g, "\\.")}\\) of builder ${name} failed to bootstrap: context deadline exceeded`),
            );
            // buildx du's reason from the daemon (the alert, or the closed pipe that follows it).
            assert.match(message, /failed to bootstrap: .*\((failed to call diskusage: )?.*(tls: |broken pipe|connection reset)/);
            assert.match(message, /removing the half-made builder/);
            assert.ok(!buildxNames().includes(name), "a half-made builder was left");
            assert.ok(!fs.existsSync(tlsDirectory(name)), "its TLS directory was left");
            assert.ok(Date.now() - started < 90_000, "bootstrap failure took too long");
        } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });

    it("docker-container driver over ssh://: node2's own Docker engine builds linux/arm64 in its BuildKit container", async () => {
        const docker = node2.docker;
        assert.ok(docker, `env.json lists no Docker engine on ${node2.name} (nodes[1].docker): run scripts/test-env.sh up`);
        const image = docker.buildkitImage;
        const name = `bx-ssh-${suffix}`;
        made.push(name);
        const mark = `ssh-${suffix}`;
        const repo = "builder/ssh";
        const tag = `t-${suffix}`;
        const driverOpts = { image, network: "host" };
        const args: BuilderArgs = {
            name,
            driver: "docker-container",
            nodes: [
                { name: "local", platforms: ["linux/amd64"], driverOpts },
                { name: "far", endpoint: `ssh://root@${node2.address}`, platforms: ["linux/arm64"], driverOpts },
            ],
            // buildx copies the CA into each BuildKit container.
            buildkitdConfig: `[registry."${env.registry.host}"]\n  ca = ["${env.caCert}"]\n`,
        };
        const harness = await newHarness();
        let builder: Builder | undefined;
        const { result, errors } = await runProgram(harness, () => {
            builder = new Builder("ssh", args);
            return new MultiPlatformImage("ssh-app", {
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
        const nodes = await unwrap(builder!.nodes);
        assert.deepStrictEqual(
            nodes.map((n) => [n.name, n.endpoint, n.status, n.pinnedPlatforms]),
            [
                ["local", "unix:///var/run/docker.sock", "running", ["linux/amd64"]],
                ["far", `ssh://root@${node2.address}`, "running", ["linux/arm64"]],
            ],
        );

        // node2's own engine runs the BuildKit container, and its build history has the arm64 build.
        const onNode2 = { ...process.env, DOCKER_HOST: docker.host };
        const ps = run(["docker", "ps", "--format", "{{.Names}} {{.Image}}"], onNode2);
        assert.match(ps.stdout, new RegExp(`^buildx_buildkit_far ${image.replace(/[.]/g, "\\.")}$`, "m"), ps.stdout + ps.stderr);
        const histories = run(["docker", "exec", "buildx_buildkit_far", "buildctl", "debug", "histories", "--format", "{{json .}}"], onNode2);
        assert.strictEqual(histories.code, 0, histories.stderr);
        assert.deepStrictEqual(platformsBuilt(parseHistories(histories.stdout), mark), ["linux/arm64"]);

        // The pushed images: the arm64 RUN ran in node2's network namespace, the amd64 one did not.
        const registry = new RegistryClient({ url: env.registry.url, caCert: env.caCert });
        const fromRegistry = await registry.platformsOf(repo, tag);
        const platformDigests = await unwrap(result!.platformDigests);
        assert.deepStrictEqual(platformDigests, fromRegistry.platforms);
        const addr = (p: string) => registry.readFile(repo, platformDigests[p], "addr.txt");
        assert.match((await addr("linux/arm64")) ?? "", new RegExp(`inet ${node2.address.replace(/[.]/g, "\\.")}/`));
        assert.doesNotMatch((await addr("linux/amd64")) ?? "", new RegExp(`inet ${node2.address.replace(/[.]/g, "\\.")}/`));
        assert.strictEqual(await registry.readFile(repo, platformDigests["linux/arm64"], "arch.txt"), "aarch64\n");

        await harness.destroy();
        assert.ok(!buildxNames().includes(name));
        assert.doesNotMatch(
            run(["docker", "ps", "-a", "--format", "{{.Names}}"], onNode2).stdout,
            /buildx_buildkit_far/,
            "the BuildKit container on node2 is still there",
        );
    });

    it("lifecycle: create, change nodes (replace), survive a crashed half-append, destroy", async () => {
        const name = `bx-life-${suffix}`;
        made.push(name);
        const dir = tlsDirectory(name);
        const args = (nodes: BuilderArgs["nodes"]): BuilderArgs => ({ name, driver: "remote", nodes });

        // 1. Create with one node.
        const first = await newHarness();
        const one = await runProgram(first, () => new Builder("life", args([remoteNode("amd", node1, "linux/amd64")])));
        assert.deepStrictEqual(
            one.errors.map((e) => e.message),
            [],
        );
        assert.deepStrictEqual(inspectNodeNames(name), ["amd"]);
        assert.deepStrictEqual(fs.readdirSync(dir), ["amd"]);

        // 2. Change the nodes: the engine replaces the Command (replaceOnChanges, delete before
        //    replace), i.e. runs the old delete, then the new create with the same name.
        await first.destroy();
        assert.ok(!buildxNames().includes(name));
        const second = await newHarness();
        const two = await runProgram(
            second,
            () => new Builder("life", args([remoteNode("arm", node2, "linux/arm64"), remoteNode("amd2", node1, "linux/amd64")])),
        );
        assert.deepStrictEqual(
            two.errors.map((e) => e.message),
            [],
        );
        assert.deepStrictEqual(inspectNodeNames(name), ["arm", "amd2"]);
        assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["amd2", "arm"]);

        // 3. A crashed earlier run left the instance with an extra node and a stray TLS file
        //    behind (state lost): create replaces it cleanly, never appending to it.
        // (buildx refuses an endpoint twice: the stale node is node1's daemon through its unix socket.)
        const socket = node1.buildkitSocket;
        const stray = run(["docker", "buildx", "create", "--append", "--name", name, "--driver", "remote", "--node", "stale", `unix://${socket}`]);
        assert.strictEqual(stray.code, 0, stray.stderr);
        fs.mkdirSync(path.join(dir, "stale"));
        const third = await newHarness();
        const three = await runProgram(
            third,
            () => new Builder("life", args([remoteNode("arm", node2, "linux/arm64"), remoteNode("amd2", node1, "linux/amd64")])),
        );
        assert.deepStrictEqual(
            three.errors.map((e) => e.message),
            [],
        );
        assert.match(third.logText(), /replacing the existing builder instance/);
        assert.deepStrictEqual(inspectNodeNames(name), ["arm", "amd2"]);
        assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["amd2", "arm"]);

        // 4. Destroy: buildx no longer lists it and the TLS directory is gone; deleting again
        //    (an instance already gone) succeeds.
        await third.destroy();
        assert.ok(!buildxNames().includes(name), "buildx still lists the builder");
        assert.ok(!fs.existsSync(dir), "the TLS directory is still there");
        const again = run(["bash", "-c", renderScript(planDelete(name))]);
        assert.strictEqual(again.code, 0, again.stderr);
        assert.match(again.stderr, /already gone/);
    });
});
