/**
 * examples/ephemeral's CI job, as written (withEphemeralBuilder + ec2BuilderProgram + buildImage),
 * under the harness's EC2-to-netns mapping: no AWS API (nor the aws/tls providers) is reachable,
 * so the builder stack's program runs under the harness's mocks instead of the engine (a
 * `stackFactory`: up = run the program, destroy = run the recorded deletes), and each EC2 instance
 * maps to a stand-in host whose buildkitd starts with the certificates its user-data carries, as
 * in ec2-node.test.ts. Everything else is real: the readiness checks over SSH, buildx appending
 * both nodes, a native build of each platform on its own node (each node's own history says so),
 * the push and the digests (checked against the registry API), and the destroy.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { tlsDirectory } from "../../src/builder/tls-files";
import { BUILDER_NAME_OUTPUT, EphemeralStackFactory } from "../../src/ephemeral";
import { BuildImageResult } from "../../src/image/build";
import { answerAwsLookups, Harness, HarnessSequence, installTlsProvider, loadTestEnv, RegistryClient, runProgram, TestEnv, unwrap } from "../harness";
import { buildxNames, parseHistories } from "../harness/buildx";
import { Ec2Buildkitd, EC2_BUILDKITD_SOCKET, ec2HostsOf, resetEc2Host, startBuildkitdOnEc2Host, TestEc2Host, writeEc2HostFile } from "../harness/ec2host";
import { aliasPackageToSource } from "../harness/package-alias";

/** examples/ephemeral's `runCiJob`: its argument's type is checked with the example (tsconfig.examples.json). */
type RunCiJob = (job: Record<string, unknown>) => Promise<BuildImageResult>;

/** The file contents user-data writes to `target` (as ec2-node.test.ts reads them). */
function userDataFile(userData: string, target: string): string {
    const m = new RegExp(`printf '%s' '([^']*)' > ${target.replace(/[./]/g, "\\$&")}\\n`).exec(userData);
    assert.ok(m, `user-data writes no ${target}`);
    return m[1];
}

/** The platforms of every build a stand-in host's buildkitd ran (it starts with an empty root), read through its unix socket. */
function historyOf(host: TestEc2Host): string[] {
    const socket = path.join(host.runBuildkit, path.basename(EC2_BUILDKITD_SOCKET));
    const out = execFileSync("buildctl", ["--addr", `unix://${socket}`, "debug", "histories", "--format", "{{json .}}"], { encoding: "utf8", timeout: 60_000 });
    return parseHistories(out).map((r) => r.platform);
}

/** A builder stack run by the harness: `up` runs the program under its mocks, `destroy` runs the recorded deletes. */
function harnessStacks(harness: Harness, seen: { up?: number; destroy?: number; builderName?: string }): EphemeralStackFactory {
    return async (spec) => ({
        up: async () => {
            const started = Date.now();
            const { result, errors } = await runProgram(harness, spec.program);
            seen.up = (Date.now() - started) / 1000;
            if (errors.length > 0) throw new Error(errors.map((e) => e.message).join("\n"));
            seen.builderName = await unwrap((result as Record<string, pulumi.Output<string>>)[BUILDER_NAME_OUTPUT]);
            return { [BUILDER_NAME_OUTPUT]: seen.builderName };
        },
        destroy: async () => {
            const started = Date.now();
            await harness.destroy();
            seen.destroy = (Date.now() - started) / 1000;
        },
        remove: async () => undefined,
    });
}

describe("examples/ephemeral: ec2BuilderProgram + buildImage in withEphemeralBuilder (instances mapped to test hosts)", function () {
    this.timeout(15 * 60_000);
    let env: TestEnv;
    let hosts: TestEc2Host[];
    const daemons: Ec2Buildkitd[] = [];
    const harnesses = new HarnessSequence("ec2-program", (h) => {
        installTlsProvider(h);
        answerAwsLookups(h, [], { knownHosts: hosts[0].ssh.knownHosts });
    });
    const suffix = `${process.pid.toString(36)}${Date.now().toString(36)}`;
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ec2-program-"));

    before(() => {
        env = loadTestEnv();
        hosts = ec2HostsOf(env);
        aliasPackageToSource();
    });
    after(async () => {
        harnesses.disposeAll();
        for (const d of daemons.splice(0)) await d.stop();
        hosts.forEach(resetEc2Host);
        fs.rmSync(scratch, { recursive: true, force: true });
    });

    it("two Ec2BuilderNodes, each platform built natively on its own node, digests equal the registry's; everything destroyed", async () => {
        const harness = await harnesses.next();
        // The "boot": the stand-in gets user-data's CA and certificate, and its buildkitd waits for the key.
        const byInstance: Record<string, TestEc2Host> = { "arm64-instance": hosts[0], "amd64-instance": hosts[1] };
        const bootedAt: Record<string, number> = {};
        harness.override("aws:ec2/instance:Instance", (args, inputs) => {
            const host = byInstance[args.name];
            assert.ok(host, `no test host for ${args.name}`);
            bootedAt[args.name] = Date.now();
            writeEc2HostFile(host, "tls/ca.pem", userDataFile(inputs.userData, "/etc/buildkit/tls/ca.pem"));
            writeEc2HostFile(host, "tls/cert.pem", userDataFile(inputs.userData, "/etc/buildkit/tls/cert.pem"));
            // An empty root: the node's history then holds this job's builds only.
            daemons.push(startBuildkitdOnEc2Host(host, { root: fs.mkdtempSync(path.join(scratch, `${host.name}-root-`)) }));
            return { publicIp: host.address, privateIp: host.address };
        });
        const ctx = fs.mkdtempSync(path.join(os.tmpdir(), "ec2-program-ctx-"));
        fs.writeFileSync(path.join(ctx, "Dockerfile"), `FROM ${env.baseImage}\nARG MARK=${suffix}\nRUN echo "$MARK" > /mark.txt && uname -m > /arch.txt\n`);
        const repo = "ec2/program";
        const tag = `t-${suffix}`;
        const seen: { up?: number; destroy?: number; builderName?: string } = {};
        try {
            // The example's own job function, with `pulumi-buildx` resolved to this checkout.
            // The example's imports type-check in tsconfig.examples.json, not here: loaded at run time.
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const { runCiJob } = require(path.join(__dirname, "..", "..", "examples", "ephemeral", "index.ts")) as { runCiJob: RunCiJob };
            const started = Date.now();
            const result = await runCiJob({
                image: `${env.registry.host}/${repo}:${tag}`,
                platforms: ["linux/amd64", "linux/arm64"],
                allowedCidrs: [env.bridge.cidr],
                sshPublicKey: fs.readFileSync(`${env.nodes[0].ssh.privateKey}.pub`, "utf8").trim(),
                sshPrivateKey: fs.readFileSync(env.nodes[0].ssh.privateKey, "utf8"),
                context: ctx,
                stackFactory: harnessStacks(harness, seen),
            });
            const total = (Date.now() - started) / 1000;
            const [up, destroy] = [seen.up ?? NaN, seen.destroy ?? NaN];
            console.log(
                `      stand-in boot to builder ready (up: 2 nodes, readiness over SSH, buildx create): ${up.toFixed(1)}s; ` +
                    `build ${(total - up - destroy).toFixed(1)}s; destroy ${destroy.toFixed(1)}s; whole job ${total.toFixed(1)}s`,
            );

            const registry = new RegistryClient({ url: env.registry.url, caCert: env.caCert });
            const pushed = await registry.platformsOf(repo, tag);
            assert.strictEqual(result.digest, pushed.digest);
            assert.deepStrictEqual(result.platformDigests, pushed.platforms);
            assert.deepStrictEqual(
                [historyOf(hosts[1]), historyOf(hosts[0])],
                [["linux/amd64"], ["linux/arm64"]],
                "each platform did not build on its own node",
            );

            // The program declared two nodes and one builder with both; all of it was destroyed.
            assert.deepStrictEqual(
                harness
                    .ofType("buildx:index:Ec2BuilderNode")
                    .map((r) => r.name)
                    .sort(),
                ["amd64", "arm64"],
            );
            assert.deepStrictEqual(Object.keys(bootedAt).sort(), ["amd64-instance", "arm64-instance"]);
            const builderName = seen.builderName ?? "";
            assert.notStrictEqual(builderName, "", "up gave no builder name");
            assert.ok(harness.named("builder-instance").deleted, "the builder's command was not deleted");
            assert.ok(!buildxNames().includes(builderName), `the builder ${builderName} is still listed`);
            assert.ok(!fs.existsSync(tlsDirectory(builderName)), "the builder's TLS directory is left");
        } finally {
            fs.rmSync(ctx, { recursive: true, force: true });
        }
    });
});
