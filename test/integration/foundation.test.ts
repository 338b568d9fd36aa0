/**
 * The foundation's end-to-end proof: a two-platform image built from the local base image by a
 * real `docker buildx build --push` run through the harness, checked through the registry's API.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as command from "@pulumi/command";
import { join as shellJoin } from "../../src/shell";
import { Harness, loadTestEnv, RegistryClient, runProgram, TestEnv, unwrap } from "../harness";

describe("foundation: a real two-platform build through the harness", function () {
    this.timeout(10 * 60_000);
    let env: TestEnv;
    let harness: Harness;
    let ctx: string;

    before(async () => {
        env = loadTestEnv();
        harness = new Harness();
        await harness.install();
        ctx = fs.mkdtempSync(path.join(os.tmpdir(), "foundation-"));
        fs.writeFileSync(path.join(ctx, "Dockerfile"), `FROM ${env.baseImage}\nRUN uname -m > /arch.txt\n`);
    });
    after(() => {
        harness.dispose();
        fs.rmSync(ctx, { recursive: true, force: true });
    });

    it("pushes an index with amd64 and arm64 images whose RUN ran on the right architecture", async () => {
        const repo = "foundation/smoke";
        const tag = `run-${process.pid}-${Date.now()}`;
        const ref = `${env.registry.host}/${repo}:${tag}`;
        const { result, errors } = await runProgram(
            harness,
            () =>
                new command.local.Command("build", {
                    create: shellJoin(["docker", "buildx", "build", "--platform", "linux/amd64,linux/arm64", "--provenance=false", "-t", ref, "--push", ctx]),
                }),
        );
        assert.deepStrictEqual(
            errors.map((e) => e.message),
            [],
        );
        await unwrap(result!.stderr);

        const registry = new RegistryClient({ url: env.registry.url, caCert: env.caCert });
        const index = await registry.platformsOf(repo, tag);
        assert.deepStrictEqual(Object.keys(index.platforms).sort(), ["linux/amd64", "linux/arm64"]);
        assert.strictEqual(await registry.readFile(repo, index.platforms["linux/arm64"], "arch.txt"), "aarch64\n");
        assert.strictEqual(await registry.readFile(repo, index.platforms["linux/amd64"], "arch.txt"), "x86_64\n");
    });
});
