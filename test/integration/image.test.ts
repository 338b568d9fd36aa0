/**
 * MultiPlatformImage against the real test environment: docker + buildx + QEMU + TLS registries.
 * Digests are checked against the registry's own HTTP API (or the OCI layout's files), never
 * against the component's parser.
 */
import * as assert from "assert";
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { getPlatformDigests, MultiPlatformImage } from "../../src";
import { Harness, loadTestEnv, RegistryClient, runProgram, TestEnv, unwrap } from "../harness";
import { watchCommandLines } from "../harness/leftovers";

/** What the build left in its TMPDIR, apart from the directories this test made there itself. */
function leftovers(dir: string): string[] {
    return fs.readdirSync(dir).filter((n) => !n.startsWith("image-"));
}

const UNAME: Record<string, string> = { "linux/amd64": "x86_64", "linux/arm64": "aarch64", "linux/arm/v7": "armv7l" };

describe("MultiPlatformImage (real builds)", function () {
    this.timeout(15 * 60_000);
    let env: TestEnv;
    let harness: Harness;
    let ctx: string;
    let tmp: string;
    const savedTmp = process.env.TMPDIR;

    before(() => {
        env = loadTestEnv();
        ctx = fs.mkdtempSync(path.join(os.tmpdir(), "image-ctx-"));
        fs.writeFileSync(path.join(ctx, "Dockerfile"), `FROM ${env.baseImage}\nCOPY hello.txt /hello.txt\nRUN uname -m > /arch.txt\n`);
        fs.writeFileSync(path.join(ctx, "hello.txt"), `hello ${Date.now()}\n`);
    });
    after(() => fs.rmSync(ctx, { recursive: true, force: true }));
    beforeEach(async () => {
        harness = new Harness();
        await harness.install();
        // The build script's temporary files go here, so the test can prove they are removed.
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "image-tmp-"));
        process.env.TMPDIR = tmp;
    });
    afterEach(() => {
        harness.dispose();
        if (savedTmp === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = savedTmp;
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    const unique = () => `t${process.pid}-${Date.now()}`;

    it("pushes linux/amd64, linux/arm64 and linux/arm/v7 and reports exactly the registry's digests", async () => {
        const repo = "image/three";
        const tag = unique();
        const { result, errors } = await runProgram(
            harness,
            () =>
                new MultiPlatformImage("three", {
                    context: ctx,
                    platforms: ["linux/amd64", "arm64", "linux/arm/v7"],
                    tags: [`${env.registry.host}/${repo}:${tag}`],
                }),
        );
        assert.deepStrictEqual(
            errors.map((e) => e.message),
            [],
        );
        const image = result!;
        const registry = new RegistryClient({ url: env.registry.url, caCert: env.caCert });
        const fromRegistry = await registry.platformsOf(repo, tag);
        assert.strictEqual(await unwrap(image.digest), fromRegistry.digest);
        const platformDigests = await unwrap(image.platformDigests);
        assert.deepStrictEqual(Object.keys(platformDigests).sort(), ["linux/amd64", "linux/arm/v7", "linux/arm64"]);
        for (const [platform, digest] of Object.entries(platformDigests)) {
            assert.strictEqual(digest, fromRegistry.platforms[platform], `${platform} digest`);
            assert.strictEqual(await registry.readFile(repo, digest, "arch.txt"), `${UNAME[platform]}\n`, `${platform} ran RUN uname -m`);
        }
        assert.strictEqual(await unwrap(image.ref), `${env.registry.host}/${repo}@${fromRegistry.digest}`);
        const refs = await unwrap(image.platformRefs);
        assert.strictEqual(refs["linux/arm64"], `${env.registry.host}/${repo}@${fromRegistry.platforms["linux/arm64"]}`);
        assert.match(await unwrap(image.contextHash), /^sha256:[0-9a-f]{64}$/);
        // The imagetools-inspect step as a function: same map, by tag and by digest.
        const byTag = await getPlatformDigests(`${env.registry.host}/${repo}:${tag}`);
        assert.deepStrictEqual(byTag, { digest: fromRegistry.digest, platformDigests: fromRegistry.platforms });
        const byDigest = await getPlatformDigests(`${env.registry.host}/${repo}@${fromRegistry.digest}`, { platforms: ["arm64"] });
        assert.deepStrictEqual(byDigest.platformDigests, { "linux/arm64": fromRegistry.platforms["linux/arm64"] });
        await assert.rejects(getPlatformDigests(`${env.registry.host}/${repo}:${tag}`, { platforms: ["linux/s390x"] }), /missing linux\/s390x/);
        assert.deepStrictEqual(leftovers(tmp), [], "no temporary files left");
        assert.match(harness.logText(), /pulumi-buildx: building linux\/amd64, linux\/arm64, linux\/arm\/v7/, "progress reaches the log");
    });

    it("logs in to a registry that requires auth, and fails clearly with wrong credentials", async () => {
        const repo = "image/auth";
        const tag = unique();
        const image = (name: string, password: string) =>
            new MultiPlatformImage(name, {
                context: ctx,
                platforms: ["linux/amd64", "linux/arm64"],
                tags: [`${env.authRegistry.host}/${repo}:${tag}`],
                registries: [{ address: env.authRegistry.host, username: env.authRegistry.username, password: pulumi.secret(password) }],
            });
        const good = await runProgram(harness, () => image("auth", env.authRegistry.password));
        assert.deepStrictEqual(
            good.errors.map((e) => e.message),
            [],
        );
        const registry = RegistryClient.forAuthRegistry(env);
        const fromRegistry = await registry.platformsOf(repo, tag);
        assert.deepStrictEqual(await unwrap(good.result!.platformDigests), fromRegistry.platforms);
        assert.deepStrictEqual(harness.leaks(env.authRegistry.password), [], "the password appears nowhere");
        assert.deepStrictEqual(harness.named("auth-build").secretPaths, ["environment"]);

        const wrong = `wrong-${randomBytes(6).toString("hex")}`;
        const bad = await runProgram(harness, () => image("auth-bad", wrong));
        assert.ok(bad.errors.length > 0, "wrong credentials must fail");
        assert.match(bad.errors.map((e) => e.message).join("\n"), /unauthorized|401|incorrect username or password/i);
        assert.deepStrictEqual(harness.leaks(wrong), [], "the wrong password appears nowhere either");
        assert.deepStrictEqual(leftovers(tmp), [], "no temporary docker config left after a failure");
    });

    it("logs in with a passwordCommand run at build time: no password in state, a failing command named", async () => {
        const repo = "image/auth-command";
        const tag = unique();
        const image = (name: string, passwordCommand: string) =>
            new MultiPlatformImage(name, {
                context: ctx,
                platforms: ["linux/amd64"],
                tags: [`${env.authRegistry.host}/${repo}:${tag}`],
                registries: [{ address: env.authRegistry.host, username: env.authRegistry.username, passwordCommand }],
            });
        const good = await runProgram(harness, () => image("authcmd", `cat ${env.authRegistry.passwordFile}`));
        assert.deepStrictEqual(
            good.errors.map((e) => e.message),
            [],
        );
        const registry = RegistryClient.forAuthRegistry(env);
        assert.strictEqual(await unwrap(good.result!.digest), (await registry.platformsOf(repo, tag)).digest);
        // The password is in no input at all, secret or not: a new token changes nothing Pulumi diffs.
        const build = harness.named("authcmd-build");
        assert.ok(!JSON.stringify(build.inputs).includes(env.authRegistry.password), "the password is in the build's inputs");
        assert.deepStrictEqual(Object.keys(build.inputs.environment).sort(), ["PULUMI_BUILDX_REGISTRY_0_ADDRESS", "PULUMI_BUILDX_REGISTRY_0_USERNAME"]);
        assert.deepStrictEqual(harness.leaks(env.authRegistry.password), []);

        const bad = await runProgram(harness, () => image("authcmd-bad", "echo no-such-token-source >&2; exit 3"));
        assert.match(
            bad.errors.map((e) => e.message).join("\n"),
            /pulumi-buildx: the passwordCommand of registry 10\.213\.77\.1:5444 failed: echo no-such-token-source/,
        );
        assert.deepStrictEqual(leftovers(tmp), [], "no temporary docker config left after a failure");
    });

    // The second name would turn the export into a registry push, or make buildx fail on a bare
    // quote, if the --output value were not CSV-quoted field by field.
    for (const [what, suffix] of [
        ["", ""],
        [' to a directory whose name holds , " and =', ',type=registry,ref=evil.example.com/p:latest "q"'],
    ]) {
        it(`exports an OCI layout with no registry involved${what}`, async () => {
            const dest = path.join(tmp, "..", `oci-${unique()}${suffix}`);
            try {
                const { result, errors } = await runProgram(
                    harness,
                    () => new MultiPlatformImage("oci", { context: ctx, platforms: ["linux/amd64", "linux/arm64"], output: { type: "oci", dest } }),
                );
                assert.deepStrictEqual(
                    errors.map((e) => e.message),
                    [],
                );
                // Read the layout directly: index.json → the image index blob → per-platform manifests.
                const layout = JSON.parse(fs.readFileSync(path.join(dest, "index.json"), "utf8"));
                const top = layout.manifests[0].digest as string;
                const indexBytes = fs.readFileSync(path.join(dest, "blobs", "sha256", top.slice(7)));
                assert.strictEqual(`sha256:${createHash("sha256").update(indexBytes).digest("hex")}`, top);
                const expected: Record<string, string> = {};
                for (const m of JSON.parse(indexBytes.toString()).manifests) {
                    if (m.platform.os !== "unknown") expected[`${m.platform.os}/${m.platform.architecture}`] = m.digest;
                }
                assert.strictEqual(await unwrap(result!.digest), top);
                assert.deepStrictEqual(await unwrap(result!.platformDigests), expected);
                assert.strictEqual(await unwrap(result!.ref), `oci-layout://${dest}@${top}`);
            } finally {
                fs.rmSync(dest, { recursive: true, force: true });
            }
        });
    }

    it("passes a build secret only through the environment", async () => {
        const secret = `s3cr3t-${randomBytes(12).toString("hex")}`;
        const secretCtx = fs.mkdtempSync(path.join(os.tmpdir(), "image-secret-"));
        fs.writeFileSync(
            path.join(secretCtx, "Dockerfile"),
            `FROM ${env.baseImage}\nRUN --mount=type=secret,id=TOKEN sha256sum /run/secrets/TOKEN | cut -d' ' -f1 > /token.sha256 && sleep 2\n`,
        );
        // Watch every process's command line while the build runs.
        const watcher = watchCommandLines([secret]);
        let seenOnCmdline: string[] = [];
        try {
            const repo = "image/secret";
            const tag = unique();
            const { result, errors } = await runProgram(
                harness,
                () =>
                    new MultiPlatformImage("secret", {
                        context: secretCtx,
                        platforms: ["linux/amd64", "linux/arm64"],
                        tags: [`${env.registry.host}/${repo}:${tag}`],
                        secrets: { TOKEN: pulumi.secret(secret) },
                        noCache: true,
                    }),
            );
            assert.deepStrictEqual(
                errors.map((e) => e.message),
                [],
            );
            const digests = await unwrap(result!.platformDigests);
            const registry = new RegistryClient({ url: env.registry.url, caCert: env.caCert });
            const want = createHash("sha256").update(secret).digest("hex");
            for (const digest of Object.values(digests)) {
                assert.strictEqual(await registry.readFile(repo, digest, "token.sha256"), `${want}\n`, "the secret was usable in RUN");
            }
            assert.deepStrictEqual(harness.leaks(secret), [], "secret in a non-secret input, output or log line");
            const build = harness.named("secret-build");
            assert.ok(!String(build.inputs.create).includes(secret), "secret in the command string");
            assert.deepStrictEqual(build.secretPaths, ["environment"]);
        } finally {
            seenOnCmdline = await watcher.stop();
            fs.rmSync(secretCtx, { recursive: true, force: true });
        }
        assert.deepStrictEqual(seenOnCmdline, [], "secret on a process command line");
    });

    it("surfaces buildx's own error text when the build fails, leaving no files", async () => {
        const badCtx = fs.mkdtempSync(path.join(os.tmpdir(), "image-bad-"));
        fs.writeFileSync(path.join(badCtx, "Dockerfile"), `FROM ${env.baseImage}\nRUN echo about-to-fail && exit 42\n`);
        try {
            const { errors } = await runProgram(
                harness,
                () => new MultiPlatformImage("bad", { context: badCtx, platforms: ["linux/amd64"], tags: [`${env.registry.host}/image/bad:${unique()}`] }),
            );
            assert.ok(errors.length > 0);
            assert.match(errors.map((e) => e.message).join("\n"), /exit code: 42/);
            assert.deepStrictEqual(leftovers(tmp), []);
        } finally {
            fs.rmSync(badCtx, { recursive: true, force: true });
        }
    });
});
