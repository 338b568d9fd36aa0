/**
 * The root Pulumi program (index.ts), run through the harness against the test environment, with
 * its base image redirected by configuration (not by a code path) to the local one.
 */
import * as assert from "assert";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Harness, loadTestEnv, runProgram, TestEnv, unwrap } from "../harness";

describe("default program (index.ts)", function () {
    this.timeout(10 * 60_000);
    let env: TestEnv;
    let harness: Harness;
    const root = path.join(__dirname, "..", "..");
    const dest = path.join(root, "build", "app-oci");
    const savedCwd = process.cwd();

    before(async () => {
        env = loadTestEnv();
        harness = new Harness();
        await harness.install("pulumi-buildx-demo", "test");
        pulumi.runtime.setConfig("pulumi-buildx-demo:baseImage", env.baseImage);
        process.chdir(root);
        fs.rmSync(dest, { recursive: true, force: true });
    });
    after(() => {
        harness.dispose();
        process.chdir(savedCwd);
        fs.rmSync(dest, { recursive: true, force: true });
    });

    it("builds examples/app for linux/amd64 and linux/arm64 into an OCI layout and exports the digests", async () => {
        const { result, errors } = await runProgram(harness, () => require("../../index") as { digest: pulumi.Output<string>; platformDigests: pulumi.Output<Record<string, string>> });
        assert.deepStrictEqual(errors.map((e) => e.message), []);
        const digest = await unwrap(result!.digest);
        const platformDigests = await unwrap(result!.platformDigests);
        // Check against the layout on disk, read independently of the component.
        const layout = JSON.parse(fs.readFileSync(path.join(dest, "index.json"), "utf8"));
        assert.strictEqual(layout.manifests[0].digest, digest);
        const index = fs.readFileSync(path.join(dest, "blobs", "sha256", digest.slice(7)));
        assert.strictEqual(`sha256:${createHash("sha256").update(index).digest("hex")}`, digest);
        const expected: Record<string, string> = {};
        for (const m of JSON.parse(index.toString()).manifests) {
            if (m.platform.os !== "unknown") expected[`${m.platform.os}/${m.platform.architecture}`] = m.digest;
        }
        assert.deepStrictEqual(platformDigests, expected);
        assert.deepStrictEqual(Object.keys(platformDigests).sort(), ["linux/amd64", "linux/arm64"]);
    });
});
