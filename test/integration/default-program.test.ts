/**
 * The root Pulumi program (index.ts), run through the harness against the test environment, with
 * its base and toolchain images redirected by configuration (not by a code path) to the local ones.
 */
import * as assert from "assert";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import * as pulumi from "@pulumi/pulumi";
import { fileInTar, Harness, loadTestEnv, runProgram, TestEnv, unwrap } from "../harness";

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
        if (!env.goImage) throw new Error("test environment has no goImage: run `scripts/test-env.sh up` (it builds one from this machine's Go)");
        pulumi.runtime.setConfig("pulumi-buildx-demo:goImage", env.goImage);
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

        // The strategies, read from each platform's layers: the binary was cross-compiled for the
        // target (Go's build info names GOARCH), and the final-stage RUN ran as the target (emulated).
        const blob = (d: string) => fs.readFileSync(path.join(dest, "blobs", "sha256", d.slice(7)));
        const fileInImage = (manifestDigest: string, file: string) => {
            for (const layer of JSON.parse(blob(manifestDigest).toString()).layers) {
                const found = fileInTar(zlib.gunzipSync(blob(layer.digest)), file);
                if (found !== undefined) return found;
            }
            return undefined;
        };
        for (const [platform, goarch, uname] of [
            ["linux/amd64", "amd64", "x86_64"],
            ["linux/arm64", "arm64", "aarch64"],
        ]) {
            assert.match(fileInImage(platformDigests[platform], "usr/local/bin/hello") ?? "(missing)", new RegExp(`GOARCH=${goarch}\\b`), `${platform} binary`);
            assert.strictEqual(fileInImage(platformDigests[platform], "built-on.txt")?.trim(), uname, `${platform} RUN step`);
        }
    });
});
