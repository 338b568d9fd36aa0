/**
 * Per-platform builds under the real Pulumi engine and command provider: what only the engine's
 * state and diffs show.
 * - node2's buildkitd is stopped while it builds linux/arm64: `up` fails naming linux/arm64, and
 *   the linux/amd64 child keeps its pushed digest in state;
 * - node2 back: the next `up` creates only the arm64 build and the merge (the amd64 build does not
 *   run again: node1's history has it once);
 * - a new value of the secret's environment variable makes the next `up` change nothing, and no
 *   value is in the state, the CLI output or any process's command line.
 *
 * Needs `scripts/test-env.sh up` and `scripts/pulumi-engine.sh build`; fails naming what is missing.
 */
import * as assert from "assert";
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadTestEnv, RegistryClient, TestEnv, TestNode } from "../harness";
import { buildHistory, platformsBuilt, run } from "../harness/buildx";
import { watchCommandLines } from "../harness/leftovers";
import { nodeAnswers, StoppedDaemon, stopNodeBuildkitd } from "../harness/node-daemon";
import { EngineProject, programProject } from "./project";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CHILD = "buildx:index:MultiPlatformImage$command:local:Command::";

describe("perPlatform under the real Pulumi engine: a node fails mid-build, the next up reruns only that platform", function () {
    this.timeout(20 * 60_000);
    let env: TestEnv;
    let node1: TestNode;
    let node2: TestNode;
    let project: EngineProject;
    let ctx: string;
    let stopped: StoppedDaemon | undefined;
    const suffix = randomBytes(4).toString("hex");
    const builders = { amd: `bx-ppe-amd-${suffix}`, arm: `bx-ppe-arm-${suffix}` };
    const repo = `engine/per-platform-${suffix}`;
    const mark = `ppe-${suffix}`;
    const tokens = [`tok-${randomBytes(12).toString("hex")}`, `tok-${randomBytes(12).toString("hex")}`];

    const createRemote = (name: string, node: TestNode, platform: string) => {
        const r = run([
            "docker",
            "buildx",
            "create",
            "--name",
            name,
            "--driver",
            "remote",
            "--platform",
            platform,
            "--driver-opt",
            `cacert=${node.tls.ca},cert=${node.tls.cert},key=${node.tls.key}`,
            node.buildkitEndpoint,
        ]);
        assert.strictEqual(r.code, 0, r.stderr);
    };

    before(() => {
        env = loadTestEnv();
        [node1, node2] = env.nodes;
        createRemote(builders.amd, node1, "linux/amd64");
        createRemote(builders.arm, node2, "linux/arm64");
        ctx = fs.mkdtempSync(path.join(os.tmpdir(), "engine-pp-ctx-"));
        // arm64 takes long enough to be stopped mid-build; amd64 is done by then.
        fs.writeFileSync(
            path.join(ctx, "Dockerfile"),
            `FROM ${env.baseImage}\nARG MARK\n` +
                `RUN --mount=type=secret,id=tok,required=true echo "started $MARK on $(uname -m)" && ` +
                `if [ "$(uname -m)" = aarch64 ]; then sleep 20; fi && sha256sum /run/secrets/tok | cut -d' ' -f1 > /tok.sha && uname -m > /arch.txt\n`,
        );
        project = programProject("per-platform");
        project.init("pp");
        project.setConfig({ context: ctx, tag: `${env.registry.host}/${repo}:1`, amdBuilder: builders.amd, armBuilder: builders.arm, mark });
    });

    after(async () => {
        // The shared environment is restored whatever happened.
        await stopped?.restart();
        assert.ok(nodeAnswers(node2), "node2's buildkitd answers again");
        project?.printTimings();
        project?.dispose();
        for (const name of Object.values(builders)) run(["docker", "buildx", "rm", name]);
        if (ctx) fs.rmSync(ctx, { recursive: true, force: true });
    });

    it("fails naming linux/arm64 and keeps amd64's digest; then builds only arm64 and the merge; a rotated secret changes nothing", async () => {
        const watcher = watchCommandLines(tokens);

        // 1. node2 stops while it builds linux/arm64.
        const log = project.eventLog();
        const up = project.start(["up", "--yes", "--skip-preview", ...log.args], { ...log.env, PP_ENGINE_TOKEN: tokens[0] });
        const until = Date.now() + 5 * 60_000;
        while (!(up.output().includes(`started ${mark} on aarch64`) && /app-build-linux-amd64\s+created/.test(up.output()))) {
            if (Date.now() > until) throw new Error(`arm64 never started, or amd64 never finished:\n${up.output()}`);
            await sleep(100);
        }
        stopped = await stopNodeBuildkitd(env, node2);
        const code = await up.exited;
        const failed = up.output();
        assert.notStrictEqual(code, 0, failed);
        // The failure is arm64's: the engine failed that resource's create and reported its error, and nothing else failed.
        const events = log.events();
        const failedUrns = events.flatMap((e) => (e.resOpFailedEvent ? [e.resOpFailedEvent.metadata.urn] : []));
        assert.deepStrictEqual(
            failedUrns.map((u) => u.slice(u.lastIndexOf("::") + 2)),
            ["app-build-linux-arm64"],
            failed,
        );
        const errors = events.flatMap((e) => (e.diagnosticEvent?.severity === "error" && e.diagnosticEvent.urn ? [e.diagnosticEvent] : []));
        const armError = errors.find((d) => d.urn!.endsWith(`${CHILD}app-build-linux-arm64`));
        assert.ok(armError, `no error diagnostic on app-build-linux-arm64: ${JSON.stringify(errors)}`);
        // buildx's own error, after the build had started on node2 (not, say, a refused argument).
        assert.match(armError.message, new RegExp(`started ${mark} on aarch64[\\s\\S]*\\nERROR: `), armError.message);
        assert.ok(!errors.some((d) => /app-build-linux-amd64$/.test(d.urn!)), JSON.stringify(errors));
        // What the user reads: the CLI's diagnostics name the arm64 build's resource with an error.
        assert.match(failed, /Diagnostics:[\s\S]*command:local:Command \(app-build-linux-arm64\):\n\s+error:/, failed);
        const afterFailure = project.resources();
        const amd = afterFailure.find((r) => r.urn.endsWith(`${CHILD}app-build-linux-amd64`));
        assert.ok(amd, `amd64's build is in state: ${afterFailure.map((r) => r.urn).join("\n")}`);
        assert.match(String(amd!.outputs?.stdout), /containerimage\.digest|pulumi-buildx-result/);
        assert.ok(!afterFailure.some((r) => r.urn.endsWith(`${CHILD}app-merge`)), "no merge after a failed platform");
        assert.deepStrictEqual(platformsBuilt(buildHistory(node1), mark), ["linux/amd64"]);

        // 2. node2 is back: only the arm64 build and the merge run.
        await stopped.restart();
        const back = project.run(["up", "--yes", "--skip-preview"], "up after node2 is back", undefined, { PP_ENGINE_TOKEN: tokens[0] });
        assert.strictEqual(back.status, 0, back.stdout + back.stderr);
        const second = project.lastUpdate();
        const changed = Object.fromEntries(Object.entries(second.resourceChanges ?? {}).filter(([op]) => op !== "same"));
        assert.deepStrictEqual(changed, { create: 2 }, JSON.stringify(second.resourceChanges));
        const resources = project.resources();
        const sameAmd = resources.find((r) => r.urn.endsWith(`${CHILD}app-build-linux-amd64`));
        assert.deepStrictEqual(sameAmd?.outputs, amd!.outputs, "amd64's command did not run again");
        assert.deepStrictEqual(platformsBuilt(buildHistory(node1), mark), ["linux/amd64"], "node1 built amd64 once");
        const outputs = project.outputs() as { digest: string; platformDigests: Record<string, string> };
        const registry = new RegistryClient({ url: env.registry.url, caCert: env.caCert });
        const fromRegistry = await registry.platformsOf(repo, "1");
        assert.strictEqual(outputs.digest, fromRegistry.digest);
        assert.deepStrictEqual(outputs.platformDigests, fromRegistry.platforms);
        const sha = createHash("sha256").update(tokens[0]).digest("hex");
        assert.strictEqual(await registry.readFile(repo, fromRegistry.platforms["linux/arm64"], "/tok.sha"), `${sha}\n`);

        // 3. A rotated secret: nothing changes.
        const third = project.run(["up", "--yes", "--skip-preview"], "up with a rotated secret", undefined, { PP_ENGINE_TOKEN: tokens[1] });
        assert.strictEqual(third.status, 0, third.stderr);
        const rotated = project.lastUpdate();
        assert.deepStrictEqual(
            Object.entries(rotated.resourceChanges ?? {}).filter(([op]) => op !== "same"),
            [],
            JSON.stringify(rotated.resourceChanges),
        );

        // No value anywhere: state (decrypted), CLI output, command lines.
        const state = project.pulumi(["stack", "export", "--show-secrets"]);
        for (const t of tokens) {
            assert.ok(!state.includes(t), "a token is in the state");
            for (const out of [failed, back.stdout, back.stderr, third.stdout, third.stderr]) assert.ok(!out.includes(t), "a token is in the CLI output");
        }
        assert.deepStrictEqual(await watcher.stop(), []);
    });
});
