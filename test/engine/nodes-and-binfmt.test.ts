/**
 * What only the real engine and the real command provider show, for the components beyond the
 * default program:
 * - a `remote` Builder on the test environment's two mTLS BuildKit nodes, with an image pushed
 *   from it: digests against the registry API, a replacement of the builder when one node's
 *   platforms change (deleted before created, as the same buildx name is reused), and a destroy
 *   that leaves no buildx instance and no TLS directory;
 * - Binfmt `uninstallOnDelete`: the real provider hands the delete its create's stdout in
 *   PULUMI_COMMAND_STDOUT, and the delete removes exactly the handlers the create added.
 *
 * Needs `scripts/test-env.sh up` and `scripts/pulumi-engine.sh build`; fails naming what is missing.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { tlsDirectory } from "../../src/builder/tls-files";
import { loadTestEnv, RegistryClient, TestEnv, TestNode } from "../harness";
import { buildHistory, buildxNames, platformsBuilt } from "../harness/buildx";
import { BINFMT_MISC, HandlerSnapshot, readHandler, removeHandler } from "../fixtures/binfmt/handlers";
import { buildInstallerImage } from "../fixtures/binfmt/image";
import { EngineEvent, EngineProject, programProject } from "./project";

/** The engine's operations on resources whose URN ends with `suffix`, in the order they happened. */
function opsOn(events: EngineEvent[], suffix: string): string[] {
    return events.filter((e) => e.resOutputsEvent?.metadata.urn.endsWith(suffix)).map((e) => e.resOutputsEvent!.metadata.op);
}

function nodeHistory(node: TestNode, mark: string): string[] {
    return platformsBuilt(buildHistory(node), mark);
}

describe("remote Builder + MultiPlatformImage under the real Pulumi engine", function () {
    this.timeout(20 * 60_000);
    let env: TestEnv;
    let project: EngineProject;
    let ctx: string;
    const suffix = `${process.pid.toString(36)}${Date.now().toString(36)}`;
    const builderName = `bx-engine-${suffix}`;
    const repo = "engine/fleet";
    const tag = `t-${suffix}`;
    const BUILDER_URN = "buildx:index:Builder$command:local:Command::fleet-instance";

    const nodesConfig = (layout: Record<"amd" | "arm", string>) =>
        JSON.stringify(
            (["amd", "arm"] as const).map((name, i) => {
                const node = env.nodes[i];
                return { name, endpoint: node.buildkitEndpoint, platforms: [layout[name]], ...node.tls };
            }),
        );

    before(() => {
        env = loadTestEnv();
        ctx = fs.mkdtempSync(path.join(os.tmpdir(), "engine-fleet-ctx-"));
        fs.writeFileSync(path.join(ctx, "Dockerfile"), `FROM ${env.baseImage}\nARG MARK\nRUN echo "$MARK" > /mark.txt && uname -m > /arch.txt\n`);
        project = programProject("fleet");
        project.init("fleet");
        project.setConfig({
            builderName,
            nodes: nodesConfig({ amd: "linux/amd64", arm: "linux/arm64" }),
            context: ctx,
            tag: `${env.registry.host}/${repo}:${tag}`,
            mark: `one-${suffix}`,
        });
    });

    after(() => {
        project?.printTimings();
        project?.dispose();
        if (ctx) fs.rmSync(ctx, { recursive: true, force: true });
    });

    it("1. builds amd64 on node1 and arm64 on node2; the digests match the registry API", async () => {
        project.pulumi(["up", "--yes", "--skip-preview"], "up (fleet)");
        const out = project.outputs();
        assert.strictEqual(out.builderName, builderName);
        const registry = new RegistryClient({ url: env.registry.url, caCert: env.caCert });
        const pushed = await registry.platformsOf(repo, tag);
        assert.strictEqual(out.digest, pushed.digest);
        assert.deepStrictEqual(out.platformDigests, pushed.platforms);
        assert.deepStrictEqual(
            env.nodes.map((n) => nodeHistory(n, `one-${suffix}`)),
            [["linux/amd64"], ["linux/arm64"]],
        );
        assert.ok(fs.existsSync(tlsDirectory(builderName)), "the builder's TLS directory is missing");
    });

    it("2. changing one node's platforms replaces the builder, deleting before creating; the next build uses the new layout", async () => {
        project.setConfig({ nodes: nodesConfig({ amd: "linux/arm64", arm: "linux/amd64" }), mark: `two-${suffix}` });
        const up = project.upWithEvents("up (fleet, nodes swapped)");
        assert.strictEqual(up.status, 0, `${up.stdout}\n${up.stderr}`);
        // The same buildx name is reused, so the old instance must go first.
        const ops = opsOn(up.events, BUILDER_URN);
        assert.ok(ops.includes("delete-replaced") && ops.includes("create-replacement"), `the builder was not replaced: ${ops.join(", ")}`);
        assert.ok(
            ops.indexOf("delete-replaced") < ops.indexOf("create-replacement"),
            `the new builder was created before the old one was deleted: ${ops.join(", ")}`,
        );
        assert.deepStrictEqual(
            env.nodes.map((n) => nodeHistory(n, `two-${suffix}`)),
            [["linux/arm64"], ["linux/amd64"]],
            "the build after the replacement did not follow the new node layout",
        );
        const registry = new RegistryClient({ url: env.registry.url, caCert: env.caCert });
        const pushed = await registry.platformsOf(repo, tag);
        const out = project.outputs();
        assert.strictEqual(out.digest, pushed.digest);
        assert.deepStrictEqual(out.platformDigests, pushed.platforms);
    });

    it("3. `pulumi destroy` leaves no buildx instance and no TLS directory", () => {
        project.pulumi(["destroy", "--yes", "--skip-preview"], "destroy (fleet)");
        assert.deepStrictEqual(project.resources(), []);
        assert.ok(!buildxNames().includes(builderName), "destroy left the buildx instance");
        assert.ok(!fs.existsSync(tlsDirectory(builderName)), "destroy left the TLS directory");
    });
});

describe("Binfmt uninstallOnDelete under the real Pulumi engine", function () {
    this.timeout(10 * 60_000);
    let project: EngineProject;
    let snapshot: HandlerSnapshot;
    const image = `pulumi-buildx-test/binfmt:engine-${process.pid}`;

    before(() => {
        loadTestEnv();
        if (!fs.existsSync(path.join(BINFMT_MISC, "register"))) throw new Error(`test environment part missing: ${BINFMT_MISC} is not mounted`);
        snapshot = HandlerSnapshot.take();
        buildInstallerImage(image);
        project = programProject("binfmt");
        project.init("binfmt");
        // s390x is to be installed (removed first); arm/v7 is there already and must stay.
        project.setConfig({ platforms: "linux/s390x,linux/arm/v7", image });
    });

    after(() => {
        project?.printTimings();
        project?.dispose();
        snapshot?.restore();
        execFileSync("docker", ["image", "rm", "--force", image], { stdio: "pipe" });
    });

    it("`destroy` removes exactly the handlers `up` added, from the create's stdout", () => {
        removeHandler("qemu-s390x");
        const armBefore = readHandler("qemu-arm")?.raw;
        assert.ok(armBefore, "test environment part missing: qemu-arm is not registered");

        project.pulumi(["up", "--yes", "--skip-preview"], "up (binfmt)");
        assert.strictEqual(readHandler("qemu-s390x")?.interpreter, "/usr/bin/qemu-s390x");
        assert.ok((project.outputs().platforms as string[]).includes("linux/s390x"));

        project.pulumi(["destroy", "--yes", "--skip-preview"], "destroy (binfmt)");
        assert.strictEqual(readHandler("qemu-s390x"), undefined, "destroy did not remove the emulator up added");
        assert.strictEqual(readHandler("qemu-arm")?.raw, armBefore, "destroy touched a handler that was there before");
        assert.deepStrictEqual(snapshot.diff(), ["qemu-s390x"], "the only difference from the machine's table is the handler this test removed itself");
    });
});
