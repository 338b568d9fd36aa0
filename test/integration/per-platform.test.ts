/**
 * Per-platform builds (`perPlatform` / `platformBuilders`) against the real test environment:
 * two SEPARATE remote builders (node1 builds linux/amd64, node2 linux/arm64, each over mTLS, not
 * appended to one builder), pushing by digest to the TLS registry, then merged. Digests and tags
 * are read from the registry's own API, who built what from each node's BuildKit history.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Builder } from "../../src/builder/component";
import { NodeTls } from "../../src/builder/args";
import { freshBuilders, removeBuilders, stepsNotRun } from "../harness/fresh-builders";
import { planDelete } from "../../src/builder/plan";
import { renderScript } from "../../src/shell";
import { MultiPlatformImage } from "../../src/image/component";
import { MultiPlatformImageArgs } from "../../src/image/args";
import { HarnessSequence, loadTestEnv, RegistryClient, runProgram, TestEnv, TestNode, unwrap } from "../harness";
import { buildHistory, platformsBuilt, run } from "../harness/buildx";

function tlsOf(node: TestNode): NodeTls {
    return { ca: fs.readFileSync(node.tls.ca, "utf8"), cert: fs.readFileSync(node.tls.cert, "utf8"), key: fs.readFileSync(node.tls.key, "utf8") };
}

describe("MultiPlatformImage perPlatform (real builds on two separate builders)", function () {
    this.timeout(15 * 60_000);
    let env: TestEnv;
    let node1: TestNode;
    let node2: TestNode;
    let registry: RegistryClient;
    let ctx: string;
    const harnesses = new HarnessSequence("per-platform-it");
    const suffix = `${process.pid.toString(36)}${Date.now().toString(36)}`;
    const amd = `bx-pp-amd-${suffix}`;
    const arm = `bx-pp-arm-${suffix}`;

    /** Creates (or recreates: buildx forgets the old instance first) one single-node remote builder per platform. */
    const makeBuilders = async () => {
        for (const name of [amd, arm]) spawnSync("bash", ["-c", renderScript(planDelete(name))], { stdio: "ignore" });
        const h = await harnesses.next();
        const { errors } = await runProgram(h, () => [
            new Builder("amd", {
                name: amd,
                driver: "remote",
                nodes: [{ name: "amd", endpoint: node1.buildkitEndpoint, platforms: ["linux/amd64"], tls: tlsOf(node1) }],
            }),
            new Builder("arm", {
                name: arm,
                driver: "remote",
                nodes: [{ name: "arm", endpoint: node2.buildkitEndpoint, platforms: ["linux/arm64"], tls: tlsOf(node2) }],
            }),
        ]);
        assert.deepStrictEqual(
            errors.map((e) => e.message),
            [],
        );
    };

    const build = async (name: string, args: Partial<MultiPlatformImageArgs>) => {
        const h = await harnesses.next();
        const out = await runProgram(
            h,
            () =>
                new MultiPlatformImage(name, {
                    context: ctx,
                    platforms: ["linux/amd64", "linux/arm64"],
                    platformBuilders: { "linux/amd64": amd, "linux/arm64": arm },
                    ...args,
                }),
        );
        return { ...out, harness: h };
    };

    before(async () => {
        env = loadTestEnv();
        [node1, node2] = env.nodes;
        registry = new RegistryClient({ url: env.registry.url, caCert: env.caCert });
        ctx = fs.mkdtempSync(path.join(os.tmpdir(), "per-platform-ctx-"));
        fs.writeFileSync(path.join(ctx, "Dockerfile"), `FROM ${env.baseImage}\nARG MARK\nRUN echo "$MARK" > /mark.txt && uname -m > /arch.txt\n`);
        await makeBuilders();
    });
    afterEach(() => harnesses.disposeAll());
    after(() => {
        for (const name of [amd, arm]) spawnSync("bash", ["-c", renderScript(planDelete(name))], { stdio: "ignore" });
        if (ctx) fs.rmSync(ctx, { recursive: true, force: true });
    });

    it("builds linux/amd64 on node1 and linux/arm64 on node2 with separate builders, pushes by digest, tags only what was asked", async () => {
        for (const name of [amd, arm]) {
            const r = run(["docker", "buildx", "inspect", name]);
            assert.strictEqual((r.stdout.match(/^Name:\s+\S+$/gm) ?? []).length, 2, `one instance with one node: ${r.stdout}`);
        }
        const repo = `pp/two-${suffix}`;
        const mark = `two-${suffix}`;
        const tags = [`${env.registry.host}/${repo}:1.0`, `${env.registry.host}/${repo}:latest`];
        const { result, errors, harness } = await build("two", { tags, buildArgs: { MARK: mark } });
        assert.deepStrictEqual(
            errors.map((e) => e.message),
            [],
        );

        // One child per platform, on its own builder, and the merge after both.
        const children = harness.ofType("command:local:Command").map((r) => r.name);
        assert.deepStrictEqual(children.sort(), ["two-build-linux-amd64", "two-build-linux-arm64", "two-merge"]);
        assert.match(harness.named("two-build-linux-amd64").inputs.create, new RegExp(`--builder ${amd} --platform linux/amd64 `));
        assert.match(harness.named("two-build-linux-arm64").inputs.create, new RegExp(`--builder ${arm} --platform linux/arm64 `));

        // The registry's own answers: the index under both tags, each platform's manifest.
        const fromRegistry = await registry.platformsOf(repo, "1.0");
        assert.strictEqual(await unwrap(result!.digest), fromRegistry.digest);
        assert.strictEqual((await registry.manifest(repo, "latest")).digest, fromRegistry.digest);
        assert.deepStrictEqual(await unwrap(result!.platformDigests), fromRegistry.platforms);
        assert.deepStrictEqual(Object.keys(fromRegistry.platforms).sort(), ["linux/amd64", "linux/arm64"]);
        assert.strictEqual(await unwrap(result!.ref), `${env.registry.host}/${repo}@${fromRegistry.digest}`);
        assert.deepStrictEqual(await unwrap(result!.platformRefs), {
            "linux/amd64": `${env.registry.host}/${repo}@${fromRegistry.platforms["linux/amd64"]}`,
            "linux/arm64": `${env.registry.host}/${repo}@${fromRegistry.platforms["linux/arm64"]}`,
        });
        assert.strictEqual(await registry.readFile(repo, fromRegistry.platforms["linux/arm64"], "/arch.txt"), "aarch64\n");
        assert.strictEqual(await registry.readFile(repo, fromRegistry.platforms["linux/amd64"], "/arch.txt"), "x86_64\n");

        // No intermediate tag: the repository holds exactly the requested tags.
        const list = JSON.parse((await registry.get(`/v2/${repo}/tags/list`)).body.toString("utf8")) as { tags: string[] };
        assert.deepStrictEqual(list.tags.sort(), ["1.0", "latest"]);

        // Each platform ran on its own node, and only there.
        assert.deepStrictEqual(platformsBuilt(buildHistory(node1), mark), ["linux/amd64"]);
        assert.deepStrictEqual(platformsBuilt(buildHistory(node2), mark), ["linux/arm64"]);
    });

    describe("registry cache per platform, across builders that are thrown away", () => {
        let cacheCtx: string;
        const local = { amd: `bx-ppc-amd-${suffix}`, arm: `bx-ppc-arm-${suffix}`, multi: `bx-ppc-multi-${suffix}` };
        const seed = `seed-${suffix}`;

        const fresh = async (perPlatform: boolean) => freshBuilders(env, await harnesses.next(), local, perPlatform ? ["amd", "arm"] : ["multi"]);
        const cachedExpensive = (log: string) => stepsNotRun(log, "expensive");

        before(async () => {
            assert.ok(env.buildkitImage && node2.docker, "env.json lists no buildkitImage or nodes[1].docker: run scripts/test-env.sh up");
            cacheCtx = fs.mkdtempSync(path.join(os.tmpdir(), "per-platform-cache-"));
            fs.writeFileSync(
                path.join(cacheCtx, "Dockerfile"),
                `FROM ${env.baseImage}\nARG SEED\nRUN echo "expensive $SEED" && sleep 2 && uname -m > /arch.txt\nARG LAST\nRUN echo "$LAST" > /last.txt\n`,
            );
        });
        after(() => {
            removeBuilders(local);
            if (cacheCtx) fs.rmSync(cacheCtx, { recursive: true, force: true });
        });

        const rebuild = async (perPlatform: boolean) => {
            const repo = `pp/cache-${perPlatform ? "pp" : "single"}-${suffix}`;
            const cacheRef = `${env.registry.host}/${repo}-cache:c`;
            const args = (last: string): Partial<MultiPlatformImageArgs> => ({
                context: cacheCtx,
                tags: [`${env.registry.host}/${repo}:${last}`],
                buildArgs: { SEED: seed, LAST: last },
                cacheFrom: [{ type: "registry", ref: cacheRef }],
                cacheTo: [{ type: "registry", ref: cacheRef, mode: "max" }],
                ...(perPlatform
                    ? { platformBuilders: { "linux/amd64": local.amd, "linux/arm64": local.arm } }
                    : { platformBuilders: undefined, builder: local.multi }),
            });
            await fresh(perPlatform);
            const first = await build("cache", args("one"));
            assert.deepStrictEqual(
                first.errors.map((e) => e.message),
                [],
            );
            const firstLogs = first.harness.logs
                .filter((l) => l.stream === "stderr")
                .map((l) => l.text)
                .join("");
            assert.deepStrictEqual(cachedExpensive(firstLogs), [], "the first build runs the expensive step everywhere");
            await fresh(perPlatform);
            const second = await build("cache", args("two"));
            assert.deepStrictEqual(
                second.errors.map((e) => e.message),
                [],
            );
            const logs = second.harness.logs.filter((l) => l.stream === "stderr");
            const logOf = (resource: string) =>
                logs
                    .filter((l) => l.resource === resource)
                    .map((l) => l.text)
                    .join("");
            return { repo, first, second, logOf, cacheRepo: `${repo}-cache` };
        };

        it("perPlatform: each platform imports and exports its own cache ref, so both hit it on new builders", async () => {
            const { first, second, logOf, cacheRepo } = await rebuild(true);
            assert.deepStrictEqual(await unwrap(first.result!.cacheRefs), {
                "linux/amd64": `${env.registry.host}/${cacheRepo}:c-linux-amd64`,
                "linux/arm64": `${env.registry.host}/${cacheRepo}:c-linux-arm64`,
            });
            // Both platforms' expensive step came from the registry cache, on builders that never ran it.
            assert.deepStrictEqual(cachedExpensive(logOf("cache-build-linux-amd64")), ["(single)"], logOf("cache-build-linux-amd64"));
            assert.deepStrictEqual(cachedExpensive(logOf("cache-build-linux-arm64")), ["(single)"], logOf("cache-build-linux-arm64"));
            // The cache repository holds one tag per platform and nothing under the given tag itself.
            const list = JSON.parse((await registry.get(`/v2/${cacheRepo}/tags/list`)).body.toString("utf8")) as { tags: string[] };
            assert.deepStrictEqual(list.tags.sort(), ["c-linux-amd64", "c-linux-arm64"]);
            const digests = await unwrap(second.result!.platformDigests);
            assert.strictEqual(
                await registry.readFile(
                    second.harness.named("cache-merge").inputs.create.match(/pp\/cache-pp-[^:@ ]+/)[0],
                    digests["linux/arm64"],
                    "/last.txt",
                ),
                "two\n",
            );
        });

        it("without perPlatform, one builder with both nodes (buildx#1044): records how many platforms hit the one shared cache ref", async () => {
            const { logOf } = await rebuild(false);
            const hit = cachedExpensive(logOf("cache-build"));
            console.log(
                `      buildx#1044: one multi-node build on new builders found the expensive step cached for ${hit.length} of 2 platforms (${hit.join(", ") || "none"})`,
            );
            // buildx#1044: the shared ref keeps the cache of the platform exported last. Should this
            // fail, buildx fixed it: update README's cache section.
            assert.ok(hit.length < 2, `every platform hit the shared cache (${hit.join(", ")}): buildx#1044 seems fixed`);
        });
    });
});
