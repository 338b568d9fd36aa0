/**
 * Issue 16's arguments against the real test environment: named contexts (another image of the
 * same program, a local directory with its own .dockerignore), `load` into the containerd image
 * store, the `local` export, an S3 cache on the environment's S3-compatible server, and
 * provenance attestations. Digests are checked against the registry's HTTP API; files against
 * the registry's layers, the exported directory, or a container of the loaded image.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MultiPlatformImage } from "../../src";
import { buildStdout } from "../../src/testing/answers";
import { fileInTar, Harness, loadS3, loadTestEnv, RegistryClient, runProgram, s3Keys, TestEnv, unwrap } from "../harness";
import { attestationsByPlatform, attestationsOf } from "../harness/attestations";
import { watchCommandLines } from "../harness/leftovers";

const UNAME: Record<string, string> = { "linux/amd64": "x86_64", "linux/arm64": "aarch64" };
const PLATFORMS = ["linux/amd64", "linux/arm64"];

describe("MultiPlatformImage build options (real builds)", function () {
    this.timeout(15 * 60_000);
    let env: TestEnv;
    let harness: Harness;
    let dir: string;
    let registry: RegistryClient;

    before(() => {
        env = loadTestEnv();
        registry = new RegistryClient({ url: env.registry.url, caCert: env.caCert });
    });
    beforeEach(async () => {
        harness = new Harness();
        await harness.install();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "options-"));
    });
    afterEach(() => {
        harness.dispose();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    const unique = () => `t${process.pid}-${Date.now()}`;
    /** A context directory holding `files`. */
    const context = (name: string, files: Record<string, string>) => {
        const ctx = path.join(dir, name);
        for (const [file, text] of Object.entries(files)) {
            fs.mkdirSync(path.dirname(path.join(ctx, file)), { recursive: true });
            fs.writeFileSync(path.join(ctx, file), text);
        }
        return ctx;
    };
    const noErrors = (errors: Error[]) =>
        assert.deepStrictEqual(
            errors.map((e) => e.message),
            [],
        );

    it("builds FROM another image of the program (a named context) and COPYs from a local named context with its own .dockerignore", async () => {
        const tag = unique();
        const baseCtx = context("base", { Dockerfile: `FROM ${env.baseImage}\nRUN uname -m > /base-arch.txt\n` });
        const appCtx = context("app", { Dockerfile: "FROM base\nCOPY --from=shared . /shared/\n" });
        const shared = context("shared", { "a.txt": "a\n", "ignored.txt": "no\n", ".dockerignore": "ignored.txt\n" });
        const program = () => {
            const base = new MultiPlatformImage("ctxbase", { context: baseCtx, platforms: PLATFORMS, tags: [`${env.registry.host}/options/base:${tag}`] });
            return new MultiPlatformImage("ctxapp", {
                context: appCtx,
                platforms: PLATFORMS,
                tags: [`${env.registry.host}/options/app:${tag}`],
                buildContexts: { base, shared },
            });
        };
        const { result, errors } = await runProgram(harness, program);
        noErrors(errors);
        const fromRegistry = await registry.platformsOf("options/app", tag);
        assert.deepStrictEqual(await unwrap(result!.platformDigests), fromRegistry.platforms);
        for (const [platform, digest] of Object.entries(fromRegistry.platforms)) {
            assert.strictEqual(await registry.readFile("options/app", digest, "base-arch.txt"), `${UNAME[platform]}\n`, `${platform}: FROM base`);
            assert.strictEqual(await registry.readFile("options/app", digest, "shared/a.txt"), "a\n", `${platform}: COPY --from=shared`);
            assert.strictEqual(await registry.readFile("options/app", digest, "shared/ignored.txt"), undefined, `${platform}: shared's .dockerignore`);
        }
        const create = String(harness.named("ctxapp-build").inputs.create);
        assert.match(create, new RegExp(`--build-context base=docker-image://${env.registry.host.replace(/\./g, "\\.")}/options/base@sha256:[0-9a-f]{64}`));

        // The rebuild hash (the build Command's triggers): an ignored file changes nothing, a real one does.
        const triggersAfter = async (change: () => void) => {
            change();
            const h = new Harness({ run: false });
            h.override("command:local:Command", (args, inputs) => ({ stdout: buildStdout(String(inputs.create), args.name) }));
            await h.install();
            try {
                await runProgram(h, program);
                return h.named("ctxapp-build").inputs.triggers as string[];
            } finally {
                h.dispose();
            }
        };
        const before = harness.named("ctxapp-build").inputs.triggers as string[];
        assert.deepStrictEqual(await triggersAfter(() => fs.writeFileSync(path.join(shared, "ignored.txt"), "changed\n")), before);
        const changed = await triggersAfter(() => fs.writeFileSync(path.join(shared, "a.txt"), "b\n"));
        assert.notStrictEqual(changed[2], before[2], "a change in the named context changes the rebuild hash");
        assert.strictEqual(changed[0], before[0], "the main context's hash is unchanged");
    });

    it("loads a two-platform image into the engine's containerd image store (output docker)", async () => {
        const ctx = context("load", { Dockerfile: `FROM ${env.baseImage}\nRUN uname -m > /arch.txt\n` });
        const tag = `pulumi-buildx-load:${unique()}`;
        try {
            const { errors } = await runProgram(
                harness,
                () => new MultiPlatformImage("load", { context: ctx, platforms: PLATFORMS, tags: [tag], output: { type: "docker" } }),
            );
            noErrors(errors);
            execFileSync("docker", ["image", "inspect", tag], { stdio: "pipe" });
            for (const platform of PLATFORMS) {
                const out = execFileSync("docker", ["run", "--rm", "--pull", "never", "--platform", platform, tag, "cat", "/arch.txt"], { encoding: "utf8" });
                assert.strictEqual(out, `${UNAME[platform]}\n`, `${platform} is in the image store`);
            }
        } finally {
            execFileSync("docker", ["image", "rm", "-f", tag], { stdio: "pipe" });
        }
    });

    it("refuses a two-platform load into an engine without the containerd image store, saying so, before building", async () => {
        const node2 = env.nodes.find((n) => n.docker !== undefined)?.docker;
        assert.ok(node2, "env.json lists no node engine (nodes[].docker)");
        const ctx = context("noload", { Dockerfile: `FROM ${env.baseImage}\nRUN uname -m > /arch.txt\n` });
        const saved = process.env.DOCKER_HOST;
        process.env.DOCKER_HOST = node2.host; // node2's own engine: overlay2, no containerd store
        try {
            const { errors } = await runProgram(
                harness,
                () => new MultiPlatformImage("noload", { context: ctx, platforms: PLATFORMS, tags: ["noload:1"], load: true, push: false }),
            );
            assert.match(errors.map((e) => e.message).join("\n"), /load \(--load\) of more than one platform needs the containerd image store/);
            assert.doesNotMatch(harness.logText(), /docker buildx build|#1 \[internal\]/, "nothing was built");
        } finally {
            process.env.DOCKER_HOST = saved;
        }
    });

    it("exports files with one directory per platform, replaces its own export, refuses a directory that is not one", async () => {
        const ctx = context("local", {
            Dockerfile: `FROM ${env.baseImage} AS b\nRUN uname -m > /arch.txt\nFROM scratch\nCOPY --from=b /arch.txt /arch.txt\n`,
        });
        const dest = path.join(dir, "out");
        const build = (name: string) =>
            runProgram(harness, () => new MultiPlatformImage(name, { context: ctx, platforms: PLATFORMS, output: { type: "local", dest } }));
        noErrors((await build("local1")).errors);
        assert.deepStrictEqual(fs.readdirSync(dest).sort(), ["linux_amd64", "linux_arm64"]);
        for (const platform of PLATFORMS) {
            assert.strictEqual(fs.readFileSync(path.join(dest, platform.replace("/", "_"), "arch.txt"), "utf8"), `${UNAME[platform]}\n`);
        }
        assert.ok(!fs.existsSync(`${dest}.partial`));
        noErrors((await build("local2")).errors);
        fs.writeFileSync(path.join(dest, "mine.txt"), "keep\n");
        const { errors } = await build("local3");
        assert.match(
            errors.map((e) => e.message).join("\n"),
            /output.dest \S*out exists and is not a directory of per-platform exports; refusing to replace it/,
        );
        assert.strictEqual(fs.readFileSync(path.join(dest, "mine.txt"), "utf8"), "keep\n");
    });

    it("exports one tar file with one directory per platform, replaces its own export, refuses a tar that is not one", async () => {
        const dockerfile = (mark: string) =>
            `FROM ${env.baseImage} AS b\nRUN uname -m > /arch.txt && echo ${mark} > /mark.txt\nFROM scratch\nCOPY --from=b /arch.txt /mark.txt /\n`;
        const ctx = context("tar", { Dockerfile: dockerfile("one") });
        const dest = path.join(dir, "out.tar");
        const build = async (name: string) => {
            const { errors } = await runProgram(
                harness,
                () => new MultiPlatformImage(name, { context: ctx, platforms: PLATFORMS, output: { type: "tar", dest } }),
            );
            return errors;
        };
        noErrors(await build("tar"));
        for (const platform of PLATFORMS) {
            assert.strictEqual(fileInTar(fs.readFileSync(dest), `${platform.replace("/", "_")}/arch.txt`), `${UNAME[platform]}\n`, platform);
        }
        assert.ok(!fs.existsSync(`${dest}.partial`));
        // BuildKit's own tar passes the check: a second build replaces it.
        fs.writeFileSync(path.join(ctx, "Dockerfile"), dockerfile("two"));
        noErrors(await build("tar2"));
        assert.strictEqual(fileInTar(fs.readFileSync(dest), "linux_arm64/mark.txt"), "two\n");
        // A tar of the user's own files is not replaced.
        execFileSync("tar", ["-cf", dest, "-C", ctx, "Dockerfile"]);
        const before = fs.readFileSync(dest);
        const errors = await build("tar3");
        assert.match(
            errors.map((e) => e.message).join("\n"),
            /output\.dest .*out\.tar exists and is not a tar file of per-platform exports; refusing to replace it/,
        );
        assert.ok(fs.readFileSync(dest).equals(before), "the user's tar was changed");
    });

    it("writes an S3 cache, and a new builder reads it back (the expensive step CACHED); no credential in state, argv or logs", async () => {
        const s3 = await loadS3(env);
        const ctx = context("s3", { Dockerfile: `FROM ${env.baseImage}\nARG RUN_ID\nRUN sleep 3 && echo "expensive" > /x.txt\n` });
        const bkConfig = path.join(dir, "buildkitd.toml");
        fs.writeFileSync(bkConfig, `[registry."${env.registry.host}"]\n  ca = ["${env.caCert}"]\n`);
        const builder = `pbx-s3-${process.pid}-${Date.now()}`;
        const createBuilder = () =>
            execFileSync(
                "docker",
                [
                    "buildx",
                    "create",
                    "--name",
                    builder,
                    "--driver",
                    "docker-container",
                    "--driver-opt",
                    `image=${env.buildkitImage}`,
                    "--buildkitd-config",
                    bkConfig,
                ],
                { stdio: "pipe" },
            );
        const removeBuilder = () => execFileSync("docker", ["buildx", "rm", "--force", builder], { stdio: "pipe" });
        const prefix = `${unique()}/`;
        const cache = { type: "s3" as const, bucket: s3.bucket, region: s3.region, endpointUrl: s3.endpoint, usePathStyle: true, prefix, name: "app" };
        const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
        process.env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
        process.env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
        const watcher = watchCommandLines([s3.accessKeyId, s3.secretAccessKey]);
        try {
            createBuilder();
            const first = await runProgram(
                harness,
                () => new MultiPlatformImage("s3a", { context: ctx, platforms: PLATFORMS, builder, push: false, cacheTo: [{ ...cache, mode: "max" }] }),
            );
            noErrors(first.errors);
            const keys = await s3Keys(s3, prefix);
            assert.ok(keys.includes(`${prefix}manifests/app`), `cache manifest in the bucket: ${keys.join(", ")}`);
            assert.ok(keys.filter((k) => k.startsWith(`${prefix}blobs/sha256:`)).length >= 2, `cache blobs in the bucket: ${keys.join(", ")}`);
            removeBuilder();
            createBuilder();
            const second = await runProgram(
                harness,
                () => new MultiPlatformImage("s3b", { context: ctx, platforms: PLATFORMS, builder, push: false, cacheFrom: [cache] }),
            );
            noErrors(second.errors);
            const log = harness.logs
                .filter((l) => l.resource === "s3b-build")
                .map((l) => l.text)
                .join("");
            const steps = [...log.matchAll(/^#(\d+) \[(linux\/[a-z0-9]+) \d\/\d\] RUN sleep 3/gm)];
            assert.strictEqual(steps.length, 2, `both platforms ran the expensive step:\n${log.slice(-3000)}`);
            for (const [, id, platform] of steps) {
                assert.match(log, new RegExp(`^#${id} CACHED`, "m"), `${platform}: the expensive step came from the S3 cache`);
            }
            for (const secret of [s3.accessKeyId, s3.secretAccessKey]) {
                assert.ok(!JSON.stringify(harness.resources).includes(secret), "a credential in state (inputs or outputs)");
                assert.ok(!harness.logText().includes(secret), "a credential in the logs");
            }
        } finally {
            const seen = await watcher.stop();
            process.env.AWS_ACCESS_KEY_ID = saved.id;
            process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
            if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
            if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
            try {
                removeBuilder();
            } catch {
                /* already gone */
            }
            assert.deepStrictEqual(seen, [], "a credential on a process command line");
        }
    });

    it('with provenance "max" pushes one attestation manifest per platform, and attestationDigests names them', async () => {
        const tag = unique();
        const ctx = context("prov", { Dockerfile: `FROM ${env.baseImage}\nRUN uname -m > /arch.txt\n` });
        const { result, errors } = await runProgram(
            harness,
            () => new MultiPlatformImage("prov", { context: ctx, platforms: PLATFORMS, tags: [`${env.registry.host}/options/prov:${tag}`], provenance: "max" }),
        );
        noErrors(errors);
        const index = await registry.manifest("options/prov", tag);
        const fromRegistry = await registry.platformsOf("options/prov", tag);
        assert.strictEqual(attestationsOf(index.json).length, 2, "one attestation manifest per platform");
        const expected = attestationsByPlatform(index.json, fromRegistry.platforms);
        assert.deepStrictEqual(Object.keys(expected).sort(), [...PLATFORMS].sort(), "each platform's attestation manifest");
        assert.deepStrictEqual(await unwrap(result!.attestationDigests), expected);
        assert.deepStrictEqual(await unwrap(result!.platformDigests), fromRegistry.platforms, "attestations stay out of platformDigests");
        for (const digest of Object.values(expected)) {
            const att = await registry.manifest("options/prov", digest);
            const layers = att.json.layers as { annotations?: Record<string, string> }[];
            assert.ok(
                layers.some((l) => /slsa\.dev\/provenance/.test(l.annotations?.["in-toto.io/predicate-type"] ?? "")),
                "the attestation holds a SLSA provenance",
            );
        }
    });
    it('with provenance "max" and an OCI export, attestationDigests names the attestation manifests of the layout on disk', async () => {
        const ctx = context("prov-oci", { Dockerfile: `FROM ${env.baseImage}\nRUN uname -m > /arch.txt\n` });
        const dest = path.join(dir, "prov-oci-layout");
        const { result, errors } = await runProgram(
            harness,
            () => new MultiPlatformImage("prov-oci", { context: ctx, platforms: PLATFORMS, output: { type: "oci", dest }, provenance: "max" }),
        );
        noErrors(errors);
        // What the layout itself says: index.json's top entry, its index blob, the attestation manifests in it.
        const blob = (digest: string) => JSON.parse(fs.readFileSync(path.join(dest, "blobs", "sha256", digest.replace(/^sha256:/, "")), "utf8"));
        const top = JSON.parse(fs.readFileSync(path.join(dest, "index.json"), "utf8")).manifests[0].digest as string;
        assert.strictEqual(attestationsOf(blob(top)).length, 2, "one attestation manifest per platform in the layout");
        const expected = attestationsByPlatform(blob(top), await unwrap(result!.platformDigests));
        assert.deepStrictEqual(Object.keys(expected).sort(), [...PLATFORMS].sort());
        assert.deepStrictEqual(await unwrap(result!.attestationDigests), expected);
    });
});
