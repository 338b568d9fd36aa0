/**
 * Cancelling a build. The command provider runs a Command as `interpreter... command` with the
 * resource's environment, reads stdout/stderr through pipes, and on a cancel (Ctrl-C, `pulumi
 * cancel`, a timeout) SIGKILLs that one process (`exec.CommandContext`). These tests do exactly
 * that with the real build script of a MultiPlatformImage that logs in to the auth registry, then
 * check what is left: processes of the run, a push after the cancel, the registry login on disk.
 * SIGINT and SIGTERM (a user interrupting a script run by hand) must stop the build promptly too.
 */
import * as assert from "assert";
import { spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { MultiPlatformImage } from "../../src/image/component";
import { Harness, loadTestEnv, RegistryClient, runProgram, TestEnv } from "../harness";
import { credentialNeedles, filesContaining, processesWith, scanDirs } from "../harness/leftovers";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Started {
    marker: string;
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
    stderr: () => string;
    pid: number;
}

describe("cancelling a build (as the command provider does)", function () {
    this.timeout(10 * 60_000);
    let env: TestEnv;
    let ctx: string;
    const repo = "cancel/app";
    const secretNeedles = () => credentialNeedles(env.authRegistry.username, env.authRegistry.password);

    /** The build command of an image that logs in to the auth registry and pushes `tag`. */
    async function buildCommand(tag: string, mark: string): Promise<{ argv: string[]; environment: Record<string, string> }> {
        const harness = new Harness({ run: false });
        await harness.install("cancel", "test");
        try {
            // Nothing runs (`run: false`): the image then reports a missing result, which is not what this is about.
            await runProgram(
                harness,
                () =>
                    new MultiPlatformImage("c", {
                        context: ctx,
                        platforms: ["linux/amd64"],
                        tags: [`${env.authRegistry.host}/${repo}:${tag}`],
                        registries: [
                            { address: env.authRegistry.host, username: env.authRegistry.username, password: pulumi.secret(env.authRegistry.password) },
                        ],
                        buildArgs: { MARK: mark },
                    }),
            );
            const build = harness.named("c-build");
            return {
                argv: [...(build.inputs.interpreter as string[]), build.inputs.create as string],
                environment: (build.inputs.environment ?? {}) as Record<string, string>,
            };
        } finally {
            harness.dispose();
        }
    }

    /** Starts `argv` the way pulumi-resource-command does: its own env additions, piped output, a cwd. */
    function start(argv: string[], environment: Record<string, string>): Started {
        const marker = `PULUMI_BUILDX_CANCEL_TEST=${randomBytes(8).toString("hex")}`;
        const [k, v] = marker.split("=");
        const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...environment, [k]: v }, stdio: ["ignore", "pipe", "pipe"], cwd: process.cwd() });
        let err = "";
        child.stderr.on("data", (d) => (err += d));
        child.stdout.on("data", () => undefined);
        const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
            child.on("exit", (code, signal) => resolve({ code, signal })),
        );
        return { marker, exited, stderr: () => err, pid: child.pid! };
    }

    async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
        const until = Date.now() + timeoutMs;
        while (!check()) {
            if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
            await sleep(100);
        }
    }

    before(() => {
        env = loadTestEnv();
        ctx = fs.mkdtempSync(path.join(os.tmpdir(), "cancel-ctx-"));
        // The RUN step outlasts the checks below: a build that goes on would push after ~20 s.
        fs.writeFileSync(path.join(ctx, "Dockerfile"), `FROM ${env.baseImage}\nARG MARK\nRUN echo "started $MARK" && sleep 20 && echo "finished $MARK"\n`);
    });
    after(() => fs.rmSync(ctx, { recursive: true, force: true }));

    it("4 images built at once (as Pulumi runs independent resources) each log in on their own; all digests match the registry", async () => {
        const harness = new Harness();
        await harness.install("cancel", "concurrent");
        const root = `/dev/shm/pulumi-buildx-${process.getuid!()}`;
        const configs = new Set<string>();
        let watching = true;
        const watcher = (async () => {
            while (watching) {
                for (const run of fs.existsSync(root) ? fs.readdirSync(root) : []) {
                    try {
                        for (const work of fs.readdirSync(path.join(root, run))) {
                            if (fs.existsSync(path.join(root, run, work, "docker-config", "config.json"))) configs.add(path.join(root, run, work));
                        }
                    } catch {
                        /* a run that just ended */
                    }
                }
                await sleep(20);
            }
        })();
        const suffix = randomBytes(4).toString("hex");
        const before = new Set(filesContaining(scanDirs(), secretNeedles()));
        try {
            const { result, errors } = await runProgram(harness, () =>
                [0, 1, 2, 3].map(
                    (i) =>
                        new MultiPlatformImage(`c${i}`, {
                            context: ctx,
                            platforms: ["linux/amd64"],
                            tags: [`${env.authRegistry.host}/${repo}:concurrent-${suffix}-${i}`],
                            registries: [
                                { address: env.authRegistry.host, username: env.authRegistry.username, password: pulumi.secret(env.authRegistry.password) },
                            ],
                            buildArgs: { MARK: `concurrent-${suffix}-${i}` },
                        }),
                ),
            );
            watching = false;
            await watcher;
            assert.deepStrictEqual(
                errors.map((e) => e.message),
                [],
            );
            const registry = RegistryClient.forAuthRegistry(env);
            const digests = await Promise.all(result!.map((image) => new Promise<string>((resolve) => image.digest.apply(resolve))));
            for (const [i, digest] of digests.entries()) {
                assert.strictEqual(digest, (await registry.manifest(repo, `concurrent-${suffix}-${i}`)).digest);
            }
            assert.strictEqual(new Set(digests).size, 4, "the four builds (different MARKs) must have four digests");
            assert.ok(configs.size >= 4, `each build logs in with its own DOCKER_CONFIG; saw ${configs.size}: ${[...configs].join(", ")}`);
            assert.deepStrictEqual(
                filesContaining(scanDirs(), secretNeedles()).filter((f) => !before.has(f)),
                [],
                "a registry login stayed on disk",
            );
        } finally {
            watching = false;
            harness.dispose();
        }
    });

    for (const signal of ["SIGKILL", "SIGINT", "SIGTERM"] as const) {
        it(`${signal} mid-build: within 5 s no process of the run is left, nothing is pushed, no login stays on disk; the next run succeeds`, async () => {
            const tag = `${signal.toLowerCase()}-${randomBytes(4).toString("hex")}`;
            const mark = `m-${tag}`;
            // Logins that other runs on this machine left before this test are not this run's doing.
            const before = new Set(filesContaining(scanDirs(), secretNeedles()));
            const { argv, environment } = await buildCommand(tag, mark);
            const run = start(argv, environment);
            await waitFor("the RUN step to start", () => run.stderr().includes(`started ${mark}`), 120_000);
            const signalledAt = Date.now();
            process.kill(run.pid, signal);
            await run.exited;
            await sleep(Math.max(0, 5_000 - (Date.now() - signalledAt)));
            const left = processesWith(run.marker);
            // Long enough for a build that was not stopped to finish and push.
            await sleep(Math.max(0, 25_000 - (Date.now() - signalledAt)));
            const registry = RegistryClient.forAuthRegistry(env);
            const pushed = await registry.has(repo, tag);
            const credentials = filesContaining(scanDirs(), secretNeedles()).filter((f) => !before.has(f));
            console.log(
                `      ${signal}: processes left after 5 s: ${left.length}; pushed after cancel: ${pushed ? "yes" : "no"}; credential files: ${credentials.length}`,
            );

            // The next run (it also sweeps what dead runs left) succeeds, and leaves no login behind.
            const next = await buildCommand(`${tag}-next`, `${mark}-next`);
            const again = start(next.argv, next.environment);
            const result = await again.exited;
            assert.strictEqual(result.code, 0, again.stderr());
            const credentialsAfterNext = filesContaining(scanDirs(), secretNeedles()).filter((f) => !before.has(f));

            assert.deepStrictEqual(left, [], "processes of the cancelled run are still running 5 s after the signal");
            assert.strictEqual(pushed, false, "the cancelled build went on and pushed");
            assert.deepStrictEqual(credentialsAfterNext, [], "the registry login is still on disk after the next run");
        });
    }
});
