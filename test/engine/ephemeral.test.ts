/**
 * withEphemeralBuilder({ program }) and cleanupEphemeralBuilders under the REAL engine (the CLI and
 * command provider from scripts/pulumi-engine.sh, a file backend), through the Automation API:
 * - the program declares a `remote` Builder on the two mTLS nodes; `fn` builds linux/amd64 and
 *   linux/arm64 with buildImage: the digests equal the registry's, each platform ran on its own
 *   node; afterwards no stack, no buildx instance, no TLS directory;
 * - `fn` throwing: the same cleanup, and `fn`'s error is the one thrown;
 * - a job SIGKILLed after its stack is up leaves stack and builder; the sweeper removes both.
 *
 * Needs `scripts/test-env.sh up` and `scripts/pulumi-engine.sh build`; fails naming what is missing.
 */
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalWorkspace, LocalWorkspaceOptions } from "@pulumi/pulumi/automation";
import { buildImage, cleanupEphemeralBuilders, withEphemeralBuilder } from "../../src";
import { tlsDirectory } from "../../src/builder/tls-files";
import { EPHEMERAL_PROJECT } from "../../src/ephemeral-names";
import { loadTestEnv, RegistryClient, TestEnv } from "../harness";
import { buildHistory, buildxNames, platformsBuilt } from "../harness/buildx";
import { NODE_PLATFORMS, remoteFleetProgram, workspaceOptions } from "./ephemeral/fleet";
import { engine, EngineProject, ROOT } from "./project";

describe("withEphemeralBuilder({ program }) + buildImage + the sweeper under the real Pulumi engine", function () {
    this.timeout(20 * 60_000);
    let env: TestEnv;
    let project: EngineProject;
    let options: LocalWorkspaceOptions;
    let ctx: string;
    const suffix = `${process.pid.toString(36)}${Date.now().toString(36)}`;
    const repo = "engine/ephemeral";
    const timings: [string, number][] = [];
    const timed = async <T>(label: string, f: () => Promise<T>): Promise<T> => {
        const start = Date.now();
        try {
            return await f();
        } finally {
            timings.push([label, (Date.now() - start) / 1000]);
        }
    };

    /** The ephemeral project's stacks, as the backend lists them. */
    const stacks = async () =>
        (await (await LocalWorkspace.create({ ...options, projectSettings: { name: EPHEMERAL_PROJECT, runtime: "nodejs" } })).listStacks()).map((s) => s.name);
    const assertGone = async (builder: string) => {
        assert.deepStrictEqual(await stacks(), [], "a stack is left");
        assert.ok(!buildxNames().includes(builder), `the buildx instance ${builder} is left`);
        assert.ok(!fs.existsSync(tlsDirectory(builder)), `the TLS directory of ${builder} is left`);
    };

    before(async () => {
        env = loadTestEnv();
        ctx = fs.mkdtempSync(path.join(os.tmpdir(), "engine-ephemeral-ctx-"));
        fs.writeFileSync(path.join(ctx, "Dockerfile"), `FROM ${env.baseImage}\nARG MARK\nRUN echo "$MARK" > /mark.txt && uname -m > /arch.txt\n`);
        project = new EngineProject("ephemeral");
        project.installCommandProvider();
        options = await workspaceOptions(engine("path"), project.automationEnv());
    });

    after(async () => {
        // A failed test may have left a stack: the sweeper itself removes it before the backend goes.
        if (options) await cleanupEphemeralBuilders({ olderThanMinutes: 0, workspaceOptions: options }).catch((e) => console.error(e));
        console.log("    timings:");
        for (const [label, s] of timings) console.log(`      ${label.padEnd(48)} ${s.toFixed(1)}s`);
        project?.dispose();
        if (ctx) fs.rmSync(ctx, { recursive: true, force: true });
    });

    it("1. fn builds linux/amd64 and linux/arm64 with buildImage, each on its own node; digests equal the registry's; then nothing is left", async () => {
        const tag = `t-${suffix}`;
        const mark = `one-${suffix}`;
        let builderName = "";
        let insideChecks: string[] = [];
        const result = await timed("withEphemeralBuilder (up, build, destroy)", () =>
            withEphemeralBuilder({ program: remoteFleetProgram(env), workspaceOptions: options }, async (builder) => {
                builderName = builder;
                insideChecks = [String(buildxNames().includes(builder)), String(fs.existsSync(tlsDirectory(builder)))];
                return timed("  buildImage (2 platforms, 2 nodes)", () =>
                    buildImage({ builder, context: ctx, platforms: NODE_PLATFORMS, tags: [`${env.registry.host}/${repo}:${tag}`], buildArgs: { MARK: mark } }),
                );
            }),
        );
        assert.match(builderName, /^buildx-ephemeral-ephemeral-2\d+t/, "the builder name is not derived from the ephemeral stack's");
        assert.deepStrictEqual(insideChecks, ["true", "true"], "the builder or its TLS directory was not there inside fn");

        const pushed = await new RegistryClient({ url: env.registry.url, caCert: env.caCert }).platformsOf(repo, tag);
        assert.strictEqual(result.digest, pushed.digest);
        assert.deepStrictEqual(result.platformDigests, pushed.platforms);
        assert.strictEqual(result.ref, `${env.registry.host}/${repo}@${pushed.digest}`);
        assert.deepStrictEqual(
            env.nodes.slice(0, 2).map((n) => platformsBuilt(buildHistory(n), mark)),
            NODE_PLATFORMS.map((p) => [p]),
            "each platform did not run on its own node",
        );
        await assertGone(builderName);
    });

    it("2. when fn throws, the same cleanup happens and fn's error is the one thrown", async () => {
        let builderName = "";
        const thrown = new Error(`fn failed on purpose ${suffix}`);
        await assert.rejects(
            withEphemeralBuilder({ program: remoteFleetProgram(env), workspaceOptions: options }, async (builder) => {
                builderName = builder;
                throw thrown;
            }),
            (err: unknown) => err === thrown,
        );
        assert.notStrictEqual(builderName, "");
        await assertGone(builderName);
    });

    it("3. a job SIGKILLed after its stack is up leaves stack and builder; cleanupEphemeralBuilders removes both", async () => {
        const job = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(__dirname, "ephemeral", "job.ts")], {
            cwd: ROOT,
            env: { ...process.env, EPHEMERAL_JOB: JSON.stringify({ engineBin: engine("path"), envVars: project.automationEnv() }) },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let output = "";
        job.stdout.on("data", (d) => (output += d));
        job.stderr.on("data", (d) => (output += d));
        const exited = new Promise<NodeJS.Signals | null>((resolve) => job.on("exit", (_code, signal) => resolve(signal)));
        const builderName = await timed("job: start to READY", async () => {
            for (let i = 0; i < 600; i++) {
                const ready = /^READY (\S+)$/m.exec(output);
                if (ready) return ready[1];
                if (job.exitCode !== null) break;
                await new Promise((r) => setTimeout(r, 500));
            }
            throw new Error(`the job did not get its builder up:\n${output}`);
        });
        job.kill("SIGKILL");
        assert.strictEqual(await exited, "SIGKILL");
        const [left] = await stacks();
        assert.ok(left, "the killed job left no stack (nothing to sweep)");
        assert.ok(buildxNames().includes(builderName), "the killed job left no builder (nothing to sweep)");

        const report = await timed("cleanupEphemeralBuilders", () => cleanupEphemeralBuilders({ olderThanMinutes: 0, workspaceOptions: options }));
        assert.deepStrictEqual(
            report.removed.map((r) => r.stackName),
            [left],
        );
        assert.deepStrictEqual([report.skipped, report.failed], [[], []]);
        await assertGone(builderName);
    });
});
