/**
 * What a consumer's unit tests see: pulumi-buildx's components under Pulumi's plain echo mocks
 * (they register and settle, with empty outputs, and nothing runs) and under
 * `pulumi-buildx/testing` (plausible, checked outputs a program can be wired to).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Binfmt, Builder, MultiPlatformImage } from "../../src";
import { Ec2BuilderNode } from "../../src/aws";
import { buildxMocks, outputValue } from "../../src/testing";

const ECHO: pulumi.runtime.Mocks = { newResource: (args) => ({ id: args.name + "_id", state: args.inputs }), call: (args) => args.inputs };
const PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHr1bK0e3VbYw0aJ9sQwE2m6c1n1g2hX7s9T6oZ0a9fB me@laptop";

/** Every component, wired as a consumer would: QEMU, a local builder, two EC2 nodes, a push to a registry. */
function program(context: string) {
    const qemu = new Binfmt("qemu", { platforms: ["linux/arm64"] });
    const local = new Builder("local", { nodes: [{ name: "local" }] }, { dependsOn: [qemu] });
    const arm = new Ec2BuilderNode("arm", { arch: "arm64", transport: "tls", allowedCidrs: ["203.0.113.7/32"], sshPublicKey: PUBLIC_KEY });
    const amd = new Ec2BuilderNode("amd", {
        arch: "amd64",
        transport: "ssh",
        allowedCidrs: ["203.0.113.7/32"],
        sshPublicKey: PUBLIC_KEY,
        subnetId: "subnet-0123456789abcdef0",
    });
    const fleet = new Builder("fleet", { driver: arm.driver, nodes: [arm.node] });
    const repo = pulumi.output("123456789012.dkr.ecr.us-east-1.amazonaws.com/app");
    const image = new MultiPlatformImage("app", {
        context,
        platforms: ["linux/amd64", "linux/arm64"],
        builder: fleet,
        tags: [pulumi.interpolate`${repo}:1.0`],
    });
    const oci = new MultiPlatformImage("oci", {
        context,
        platforms: ["linux/arm64"],
        builder: local,
        output: { type: "oci", dest: path.join(context, "out") },
    });
    return { qemu, local, arm, amd, fleet, image, oci };
}

/** Runs `program` under `mocks`; resolves to its outputs once all are known, with every unhandled rejection. */
async function run(mocks: pulumi.runtime.Mocks, context: string) {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on("unhandledRejection", onRejection);
    try {
        await pulumi.runtime.setMocks(mocks, "project", "stack", false);
        const p = program(context);
        const values = await Promise.all([
            outputValue(p.qemu.platforms),
            outputValue(p.local.nodes),
            outputValue(p.fleet.nodes),
            outputValue(p.arm.endpoint),
            outputValue(p.arm.expiresAt),
            outputValue(p.amd.endpoint),
            outputValue(p.image.digest),
            outputValue(p.image.platformDigests),
            outputValue(p.image.platformRefs),
            outputValue(p.oci.ref),
            outputValue(p.arm.sshHostKey),
        ]);
        await new Promise((r) => setTimeout(r, 50));
        const [platforms, localNodes, fleetNodes, armEndpoint, expiresAt, amdEndpoint, digest, platformDigests, platformRefs, ociRef, sshHostKey] = values;
        return {
            rejections,
            platforms,
            localNodes,
            fleetNodes,
            armEndpoint,
            expiresAt,
            amdEndpoint,
            digest,
            platformDigests,
            platformRefs,
            ociRef,
            sshHostKey,
        };
    } finally {
        process.off("unhandledRejection", onRejection);
    }
}

describe("consumer unit tests (plain echo mocks, pulumi-buildx/testing)", () => {
    let ctx: string;
    before(() => {
        ctx = fs.mkdtempSync(path.join(os.tmpdir(), "consumer-"));
        fs.writeFileSync(path.join(ctx, "Dockerfile"), "FROM scratch\n");
    });
    after(() => fs.rmSync(ctx, { recursive: true, force: true }));

    it("under Pulumi's echo mocks every component registers and settles, with empty outputs", async () => {
        const r = await run(ECHO, ctx);
        assert.deepStrictEqual(r.rejections, []);
        assert.deepStrictEqual([r.platforms, r.localNodes, r.fleetNodes], [[], [], []]);
        assert.deepStrictEqual([r.armEndpoint, r.amdEndpoint, r.expiresAt, r.digest, r.ociRef, r.sshHostKey], ["", "", "", "", "", ""]);
        assert.deepStrictEqual([r.platformDigests, r.platformRefs], [{}, {}]);
    });

    it("under buildxMocks every output is plausible and checked", async () => {
        const r = await run(buildxMocks({ now: new Date("2026-12-03T06:00:00Z") }), ctx);
        assert.deepStrictEqual(r.rejections, []);
        assert.ok(r.platforms.includes("linux/arm64"), String(r.platforms));
        assert.deepStrictEqual(
            r.localNodes.map((n) => [n.name, n.status, n.endpoint]),
            [["local", "running", "unix:///var/run/docker.sock"]],
        );
        assert.match(r.armEndpoint, /^tcp:\/\/203\.0\.113\.\d+:1234$/);
        assert.match(r.amdEndpoint, /^ssh:\/\/ec2-user@203\.0\.113\.\d+$/);
        assert.notStrictEqual(r.armEndpoint.slice(6), r.amdEndpoint.slice(17), "each instance has its own address");
        assert.deepStrictEqual(
            r.fleetNodes.map((n) => [n.endpoint, n.pinnedPlatforms]),
            [[r.armEndpoint, ["linux/arm64"]]],
        );
        assert.strictEqual(r.expiresAt, "2026-12-03T08:00:00Z");
        // The host key comes from the EC2 API, not a resource: the mocks answer it, nothing reaches AWS.
        assert.match(r.sshHostKey, /^ssh-ed25519 AAAA[A-Za-z0-9+/=]+$/);
        assert.match(r.digest, /^sha256:[0-9a-f]{64}$/);
        assert.deepStrictEqual(Object.keys(r.platformDigests), ["linux/amd64", "linux/arm64"]);
        assert.notStrictEqual(r.platformDigests["linux/amd64"], r.platformDigests["linux/arm64"]);
        assert.strictEqual(r.platformRefs["linux/arm64"], `123456789012.dkr.ecr.us-east-1.amazonaws.com/app@${r.platformDigests["linux/arm64"]}`);
        assert.match(r.ociRef, /^oci-layout:\/\/.*\/out@sha256:[0-9a-f]{64}$/);
    });

    it("outputValue rejects with the component's own error instead of hanging when a check fails", async () => {
        await pulumi.runtime.setMocks(buildxMocks(), "project", "stack", false);
        const image = new MultiPlatformImage("bad", {
            context: ctx,
            platforms: ["linux/amd64"],
            tags: ["registry.example.com/team/app:1"],
            buildArgs: { TOKEN: pulumi.secret("x") },
        });
        await assert.rejects(outputValue(image.digest, 10_000), (e: unknown) => {
            assert.match(
                String((e as Error).message),
                /^MultiPlatformImage "bad" has invalid arguments.*buildArgs\.TOKEN: .*secret.*give it in `secrets` instead/s,
            );
            return true;
        });
    });

    it("leaves other resources and calls to the fallback (echo by default)", async () => {
        const mocks = buildxMocks();
        const own = await mocks.newResource({ type: "aws:ecs/taskDefinition:TaskDefinition", name: "task", inputs: { family: "f" }, custom: true });
        assert.deepStrictEqual(own, { id: "task_id", state: { family: "f" } });
        assert.deepStrictEqual(await mocks.call({ token: "aws:index/getPartition:getPartition", inputs: { a: 1 }, provider: "" }), { a: 1 });
        const other = await mocks.newResource({ type: "command:local:Command", name: "mine", inputs: { create: "echo hi" }, custom: true });
        assert.deepStrictEqual(other, { id: "mine_id", state: { create: "echo hi" } });
    });
});
