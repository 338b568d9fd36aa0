import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { MultiPlatformImageArgs } from "../../../src/image/args";
import { validateImageArgs } from "../../../src/image/validate";

describe("MultiPlatformImage argument validation", () => {
    let ctx: string;
    before(() => {
        ctx = fs.mkdtempSync(path.join(os.tmpdir(), "validate-"));
        fs.writeFileSync(path.join(ctx, "Dockerfile"), "FROM scratch\n");
        fs.mkdirSync(path.join(ctx, "nodockerfile"));
    });
    after(() => fs.rmSync(ctx, { recursive: true, force: true }));

    const base = (): MultiPlatformImageArgs => ({ context: ctx, platforms: ["linux/amd64", "arm64"], tags: ["10.0.0.1:5000/app:1"] });

    it("normalises a valid build and defaults push to true with tags", () => {
        const v = validateImageArgs("app", base());
        assert.deepStrictEqual(v.platforms, ["linux/amd64", "linux/arm64"]);
        assert.strictEqual(v.push, true);
        assert.strictEqual(v.dockerfile, path.join(ctx, "Dockerfile"));
        assert.deepStrictEqual(v.output, { type: "registry" });
    });

    it("accepts an OCI export without tags and without push", () => {
        const v = validateImageArgs("app", { context: ctx, platforms: ["linux/arm/v7"], output: { type: "oci", dest: "/tmp/x" } });
        assert.strictEqual(v.push, false);
    });

    const cases: [string, Partial<MultiPlatformImageArgs> & Record<string, unknown>, string, RegExp][] = [
        ["unknown platform", { platforms: ["linux/amd64", "linux/arm65"] }, "platforms[1]", /unknown architecture "arm65".*linux\/arm64/],
        ["duplicate platform (alias)", { platforms: ["linux/arm64", "aarch64"] }, "platforms[1]", /"aarch64".*same as platforms\[0\] \(linux\/arm64\)/],
        ["duplicate after a bad entry", { platforms: ["linux/arm65", "arm64", "aarch64"] }, "platforms[2]", /same as platforms\[1\] \(linux\/arm64\)/],
        ["empty platform list", { platforms: [] }, "platforms", /non-empty list/],
        ["missing context", { context: "" }, "context", /is required/],
        ["context that does not exist", { context: "/nonexistent/ctx" }, "context", /"\/nonexistent\/ctx" is not valid: expected an existing directory/],
        ["missing Dockerfile", { context: "NODF" }, "context", /a context that contains a Dockerfile/],
        ["dockerfile that does not exist", { dockerfile: "/nope/Dockerfile" }, "dockerfile", /"\/nope\/Dockerfile" is not valid: expected an existing file/],
        ["dockerfile and dockerfileInline", { dockerfile: "x", dockerfileInline: "FROM scratch" }, "dockerfileInline", /cannot be combined/],
        ["malformed tag", { tags: ["Bad Tag"] }, "tags[0]", /"Bad Tag" is not a valid image reference/],
        ["tag with a digest", { tags: [`app@sha256:${"a".repeat(64)}`] }, "tags[0]", /without a digest/],
        ["push without tags", { tags: [], push: true }, "push", /`tags` is empty/],
        ["registry output without tags", { tags: undefined }, "tags", /is empty/],
        ["OCI output with push", { output: { type: "oci", dest: "/tmp/o" }, push: true }, "push", /cannot be combined with `output: \{ type: "oci" \}`/],
        ["OCI output without dest", { output: { type: "oci", dest: "" } }, "output.dest", /directory/],
        [
            "OCI dest with a trailing slash",
            { output: { type: "oci", dest: "build/app/" } },
            "output.dest",
            /"build\/app\/" ends with "\/": give the path without it, e\.g\. "build\/app"/,
        ],
        [
            "local dest with a trailing slash",
            { output: { type: "local", dest: "out//" } },
            "output.dest",
            /ends with "\/": give the path without it, e\.g\. "out"/,
        ],
        ["tar dest that is the root", { output: { type: "tar", dest: "/" } }, "output.dest", /"\/" is not a path of its own/],
        [
            "local dest that is the project directory",
            { output: { type: "local", dest: "." } },
            "output.dest",
            /"\." is not a path of its own: give the directory to export the files to/,
        ],
        ["OCI dest that is a parent", { output: { type: "oci", dest: "build/.." } }, "output.dest", /"build\/\.\." is not a path of its own/],
        [
            "unknown output type",
            { output: { type: "tarball" } as never },
            "output.type",
            /"tarball" is not valid: expected "registry", "oci", "local", "tar" or "docker"/,
        ],
        ["secret id that is not an env name", { secrets: { "npm-token": "x" } }, "secrets.npm-token", /valid environment variable name/],
        ["registry without password", { registries: [{ address: "ghcr.io", username: "u", password: "" }] }, "registries[0].password", /is required/],
        [
            "registry with password and passwordCommand",
            { registries: [{ address: "ghcr.io", username: "u", password: "p", passwordCommand: "echo p" }] },
            "registries[0].passwordCommand",
            /cannot be combined with password/,
        ],
        [
            "registry with an empty passwordCommand",
            { registries: [{ address: "ghcr.io", username: "u", passwordCommand: " " }] },
            "registries[0].passwordCommand",
            /is not valid: expected a shell command that prints the password/,
        ],
        [
            "registry address with a scheme",
            { registries: [{ address: "https://ghcr.io", username: "u", password: "p" }] },
            "registries[0].address",
            /no scheme/,
        ],
        ["cache type unknown", { cacheFrom: [{ type: "gha" } as never] }, "cacheFrom[0].type", /"registry", "local" or "s3"/],
        ["inline cache as a source", { cacheFrom: [{ type: "inline" } as never] }, "cacheFrom[0].type", /inline cache is read with type "registry"/],
        ["cache mode", { cacheTo: [{ type: "registry", ref: "r/c:1", mode: "all" as never }] }, "cacheTo[0].mode", /"min" or "max"/],
        [
            "cache compression",
            { cacheTo: [{ type: "registry", ref: "r/c:1", compression: "lz4" as never }] },
            "cacheTo[0].compression",
            /"gzip", "zstd", "estargz", "uncompressed"/,
        ],
        ["cache imageManifest", { cacheTo: [{ type: "registry", ref: "r/c:1", imageManifest: "yes" as never }] }, "cacheTo[0].imageManifest", /true or false/],
        ["network", { network: "bridge" as never }, "network", /"default", "none", "host"/],
        ["add-host", { addHosts: { db: "not-an-ip" } }, "addHosts.db", /IP address/],
        ["noCache not boolean", { noCache: "yes" as never }, "noCache", /true or false/],
    ];
    for (const [title, patch, property, message] of cases) {
        it(`rejects ${title} naming ${property}`, () => {
            const args = { ...base(), ...patch } as MultiPlatformImageArgs;
            if (patch.context === "NODF") args.context = path.join(ctx, "nodockerfile");
            try {
                validateImageArgs("app", args);
                assert.fail("expected an InputPropertiesError");
            } catch (err) {
                assert.ok(pulumi.InputPropertiesError.isInstance(err), String(err));
                const e = err as pulumi.InputPropertiesError;
                const mine = e.errors.find((x) => x.propertyPath === property);
                assert.ok(mine, `no error for ${property}; got ${JSON.stringify(e.errors)}`);
                assert.match(mine!.reason, message);
                assert.match(e.message, /MultiPlatformImage "app" has invalid arguments/);
            }
        });
    }

    it("reports every problem at once", () => {
        assert.throws(
            () => validateImageArgs("app", { context: "", platforms: ["x"], tags: ["A B"] }),
            (e: pulumi.InputPropertiesError) => e.errors.length === 3,
        );
    });
});
