/**
 * Ctrl-C during `pulumi up`, under the real engine and the real command provider: the engine
 * cancels, the provider SIGKILLs the build's command, and the guard (src/guard.ts) stops the build
 * and removes its login. Then README's recovery steps for the interrupted update, as written.
 */
import * as assert from "assert";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadTestEnv, RegistryClient, TestEnv } from "../harness";
import { credentialNeedles, filesContaining, processesWith, scanDirs } from "../harness/leftovers";
import { EngineProject, programProject } from "./project";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Ctrl-C during `pulumi up` under the real Pulumi engine", function () {
    this.timeout(15 * 60_000);
    let env: TestEnv;
    let project: EngineProject;
    let ctx: string;
    const suffix = randomBytes(4).toString("hex");
    const repo = "engine/cancel";
    const tag = `t-${suffix}`;

    before(() => {
        env = loadTestEnv();
        ctx = fs.mkdtempSync(path.join(os.tmpdir(), "engine-cancel-ctx-"));
        // The RUN outlasts the checks: a build that went on would push after ~20 s.
        fs.writeFileSync(path.join(ctx, "Dockerfile"), `FROM ${env.baseImage}\nARG MARK\nRUN echo "started $MARK" && sleep 20 && echo "finished $MARK"\n`);
        project = programProject("cancel");
        project.init("cancel");
        project.setConfig({
            context: ctx,
            tag: `${env.authRegistry.host}/${repo}:${tag}`,
            registry: env.authRegistry.host,
            username: env.authRegistry.username,
            mark: `one-${suffix}`,
        });
        project.pulumi(["config", "set", "--secret", "password"], undefined, env.authRegistry.password);
    });

    after(() => {
        project?.printTimings();
        project?.dispose();
        if (ctx) fs.rmSync(ctx, { recursive: true, force: true });
    });

    it("stops the build (nothing pushed, no process left, no login on disk); `refresh --clear-pending-creates` then `up` recovers", async () => {
        // Logins that other runs on this machine left before this test are not this run's doing.
        const before = new Set(filesContaining(scanDirs(), credentialNeedles(env.authRegistry.username, env.authRegistry.password)));
        const marker = `PULUMI_BUILDX_ENGINE_CANCEL=${suffix}`;
        const [k, v] = marker.split("=");
        const up = project.start(["up", "--yes", "--skip-preview"], { [k]: v });
        const until = Date.now() + 5 * 60_000;
        while (!up.output().includes(`started one-${suffix}`)) {
            if (Date.now() > until) throw new Error(`the build never started:\n${up.output()}`);
            await sleep(100);
        }
        const interrupted = Date.now();
        up.child.kill("SIGINT");
        const code = await up.exited;
        assert.notStrictEqual(code, 0, `pulumi up succeeded although it was interrupted:\n${up.output()}`);
        await sleep(Math.max(0, 5_000 - (Date.now() - interrupted)));
        assert.deepStrictEqual(processesWith(marker), [], "processes of the interrupted update are still running 5 s after Ctrl-C");
        await sleep(Math.max(0, 25_000 - (Date.now() - interrupted)));
        const registry = RegistryClient.forAuthRegistry(env);
        const pushed = await registry.has(repo, tag);
        assert.strictEqual(pushed, false, "the build went on after Ctrl-C and pushed");
        const left = filesContaining(scanDirs(), credentialNeedles(env.authRegistry.username, env.authRegistry.password)).filter((f) => !before.has(f));
        assert.deepStrictEqual(left, [], "the registry login stayed on disk");

        // README's recovery steps, as written.
        project.pulumi(["refresh", "--clear-pending-creates", "--yes", "--skip-preview"], "refresh --clear-pending-creates");
        project.pulumi(["up", "--yes", "--skip-preview"], "up (after the interrupted one)");
        const digest = project.outputs().digest;
        assert.strictEqual(digest, (await registry.manifest(repo, tag)).digest);
    });
});
