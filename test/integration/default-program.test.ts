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
import { execFileSync } from "child_process";
import { fileInTar, Harness, loadTestEnv, runProgram, TestEnv, unwrap } from "../harness";
import { buildInstallerImage } from "../fixtures/binfmt/image";
import { INSTALLER_IMAGE, programConfig } from "../fixtures/default-program";

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
        buildInstallerImage(INSTALLER_IMAGE);
        for (const [key, value] of Object.entries(programConfig(env, INSTALLER_IMAGE))) {
            pulumi.runtime.setConfig(`pulumi-buildx-demo:${key}`, value);
        }
        process.chdir(root);
        fs.rmSync(dest, { recursive: true, force: true });
    });
    after(async () => {
        await harness.destroy();
        harness.dispose();
        process.chdir(savedCwd);
        fs.rmSync(dest, { recursive: true, force: true });
    });

    it("builds examples/app for linux/amd64 and linux/arm64 into an OCI layout and exports the digests", async () => {
        type Program = {
            digest: pulumi.Output<string>;
            platformDigests: pulumi.Output<Record<string, string>>;
            builderName: pulumi.Output<string>;
            hostPlatforms: pulumi.Output<string[]>;
        };
        // require, not import: the program must load inside runProgram, after the mocks are installed.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { result, errors } = await runProgram(harness, () => require("../../index") as Program);
        assert.deepStrictEqual(
            errors.map((e) => e.message),
            [],
        );
        // The three components' commands ran in order: emulators, then the builder, then the image on it.
        assert.deepStrictEqual(
            harness.ofType("command:local:Command").map((r) => r.name),
            ["qemu-probe", "qemu-register", "qemu-install", "local-instance", "app-build"],
        );
        assert.ok((await unwrap(result!.hostPlatforms)).includes("linux/arm64"), "the host runs linux/arm64 after Binfmt");
        const builderName = await unwrap(result!.builderName);
        assert.strictEqual(builderName, "pulumi-buildx-demo-test-local");
        assert.match(harness.named("app-build").inputs.create, new RegExp(`--builder ${builderName}`));
        assert.match(execFileSync("docker", ["buildx", "inspect", builderName]).toString(), /Driver:\s+docker-container/);
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

    it("destroy() removes the builder", async () => {
        const name = "pulumi-buildx-demo-test-local";
        await harness.destroy();
        const ls = execFileSync("docker", ["buildx", "ls"]).toString();
        assert.ok(!ls.split("\n").some((l) => l.startsWith(name)), ls);
    });
});
