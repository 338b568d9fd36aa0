/**
 * `buildImage` (no Pulumi program) against the real test environment: a two-platform build pushed
 * to the registry with basic auth, logged in through `registries`, with a build secret; the
 * digests it returns are checked against the registry's own HTTP API. A failing build rejects
 * with buildx's message and leaves no work directory.
 */
import * as assert from "assert";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildImage } from "../../src";
import { loadTestEnv, RegistryClient, TestEnv } from "../harness";
import { credentialNeedles, filesContaining } from "../harness/leftovers";
import { attestationsByPlatform, attestationsOf } from "../harness/attestations";

describe("buildImage (real builds, outside any Pulumi program)", function () {
    this.timeout(15 * 60_000);
    let env: TestEnv;
    let ctx: string;
    let tmp: string;
    const savedTmp = process.env.TMPDIR;
    const secret = `build-secret-${process.pid}-${Date.now()}`;

    before(() => {
        env = loadTestEnv();
        ctx = fs.mkdtempSync(path.join(os.tmpdir(), "build-image-ctx-"));
        fs.writeFileSync(
            path.join(ctx, "Dockerfile"),
            `FROM ${env.baseImage}\nARG MARK\nRUN --mount=type=secret,id=TOKEN sha256sum /run/secrets/TOKEN | cut -c1-64 > /token.sha && uname -m > /arch.txt\n`,
        );
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "build-image-tmp-"));
        process.env.TMPDIR = tmp;
    });
    after(() => {
        if (savedTmp === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = savedTmp;
        fs.rmSync(ctx, { recursive: true, force: true });
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("pushes linux/amd64 and linux/arm64 and returns exactly the registry's digests", async () => {
        const repo = "build-image/two";
        const tag = `t${process.pid}-${Date.now()}`;
        const lines: string[] = [];
        const started = Date.now();
        const result = await buildImage({
            builder: "default",
            context: ctx,
            platforms: ["linux/amd64", "linux/arm64"],
            tags: [`${env.authRegistry.host}/${repo}:${tag}`],
            buildArgs: { MARK: tag },
            secrets: { TOKEN: secret },
            registries: [{ address: env.authRegistry.host, username: env.authRegistry.username, password: env.authRegistry.password }],
            onOutput: (line) => lines.push(line),
        });
        console.log(`      buildImage (2 platforms, QEMU, pushed) took ${((Date.now() - started) / 1000).toFixed(1)}s, ${lines.length} progress lines`);

        const registry = RegistryClient.forAuthRegistry(env);
        const pushed = await registry.platformsOf(repo, tag);
        assert.strictEqual(result.digest, pushed.digest);
        assert.deepStrictEqual(result.platformDigests, pushed.platforms);
        assert.strictEqual(result.ref, `${env.authRegistry.host}/${repo}@${pushed.digest}`);
        assert.deepStrictEqual(result.platformRefs, {
            "linux/amd64": `${env.authRegistry.host}/${repo}@${pushed.platforms["linux/amd64"]}`,
            "linux/arm64": `${env.authRegistry.host}/${repo}@${pushed.platforms["linux/arm64"]}`,
        });
        // The attestation manifests of the pushed index (whatever the builder attached), by the platform they describe.
        const index = await registry.manifest(repo, tag);
        assert.deepStrictEqual(result.attestationDigests, attestationsByPlatform(index.json, pushed.platforms));
        console.log(`      attestation manifests in the index: ${attestationsOf(index.json).length}`);
        const secretHash = createHash("sha256").update(secret).digest("hex");
        for (const [platform, uname] of [
            ["linux/amd64", "x86_64"],
            ["linux/arm64", "aarch64"],
        ]) {
            assert.strictEqual(await registry.readFile(repo, pushed.platforms[platform], "arch.txt"), `${uname}\n`);
            assert.strictEqual(await registry.readFile(repo, pushed.platforms[platform], "token.sha"), `${secretHash}\n`, "the build secret did not reach RUN");
        }
        assert.ok(
            lines.some((l) => /^#\d+ /.test(l)),
            "no buildx progress reached onOutput",
        );
        assert.ok(!lines.some((l) => l.includes(secret) || l.includes(env.authRegistry.password)), "a secret reached onOutput");
        assert.deepStrictEqual(fs.readdirSync(tmp), [], "the build left files in TMPDIR");
        assert.deepStrictEqual(filesContaining([tmp, "/dev/shm"], [secret, ...credentialNeedles(env.authRegistry.username, env.authRegistry.password)]), []);
    });

    it("rejects with buildx's error when the build fails, and leaves nothing behind", async () => {
        const bad = fs.mkdtempSync(path.join(os.tmpdir(), "build-image-bad-"));
        try {
            await assert.rejects(
                buildImage({
                    builder: "default",
                    context: bad,
                    dockerfileInline: `FROM ${env.baseImage}\nRUN echo failing-on-purpose && exit 7\n`,
                    platforms: ["linux/amd64"],
                    tags: [`${env.registry.host}/build-image/bad:t${process.pid}`],
                }),
                (err: Error) => /buildImage \(builder default\) exited with code 1/.test(err.message) && /exit code: 7/.test(err.message),
            );
            assert.deepStrictEqual(
                fs.readdirSync(tmp).filter((n) => !n.startsWith("build-image-bad-")),
                [],
            );
        } finally {
            fs.rmSync(bad, { recursive: true, force: true });
        }
    });
});
