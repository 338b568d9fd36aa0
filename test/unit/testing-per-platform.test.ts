/**
 * A consumer's unit test of a program that uses `perPlatform`: under `pulumi-buildx/testing` the
 * per-platform builds and the merge get answers the component checks as it checks real ones.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { MultiPlatformImage } from "../../src";
import { buildxMocks, outputValue } from "../../src/testing";

describe("pulumi-buildx/testing with perPlatform", () => {
    let ctx: string;
    before(() => {
        ctx = fs.mkdtempSync(path.join(os.tmpdir(), "consumer-pp-"));
        fs.writeFileSync(path.join(ctx, "Dockerfile"), "FROM scratch\n");
    });
    after(() => fs.rmSync(ctx, { recursive: true, force: true }));

    it("gives checked digests for every platform, the index's refs and the cache refs", async () => {
        await pulumi.runtime.setMocks(buildxMocks(), "project", "stack", false);
        const image = new MultiPlatformImage("app", {
            context: ctx,
            platforms: ["linux/amd64", "linux/arm64", "linux/arm/v7"],
            tags: ["registry.example.com/team/app:1"],
            platformBuilders: { "linux/arm64": "arm-builder" },
            cacheTo: [{ type: "registry", ref: "registry.example.com/team/app:cache" }],
        });
        const [digest, platformDigests, ref, cacheRefs] = await Promise.all([
            outputValue(image.digest),
            outputValue(image.platformDigests),
            outputValue(image.ref),
            outputValue(image.cacheRefs),
        ]);
        assert.match(digest, /^sha256:[0-9a-f]{64}$/);
        assert.deepStrictEqual(Object.keys(platformDigests), ["linux/amd64", "linux/arm64", "linux/arm/v7"]);
        assert.strictEqual(new Set(Object.values(platformDigests)).size, 3);
        assert.strictEqual(ref, `registry.example.com/team/app@${digest}`);
        assert.strictEqual(cacheRefs["linux/arm/v7"], "registry.example.com/team/app:cache-linux-arm-v7");
    });

    it("settles with empty outputs under Pulumi's plain echo mocks (nothing runs)", async () => {
        await pulumi.runtime.setMocks({ newResource: (a) => ({ id: `${a.name}_id`, state: a.inputs }), call: (a) => a.inputs }, "project", "stack", false);
        const image = new MultiPlatformImage("echo", {
            context: ctx,
            platforms: ["linux/amd64", "linux/arm64"],
            tags: ["registry.example.com/team/app:1"],
            perPlatform: true,
        });
        assert.deepStrictEqual(await Promise.all([outputValue(image.digest), outputValue(image.platformDigests)]), ["", {}]);
    });
});
