import * as assert from "assert";
import { parseReference, pinnedRef, registryOf } from "../../src/reference";

describe("image references", () => {
    const D = "sha256:" + "a".repeat(64);
    const valid: [string, { domain?: string; path: string; tag?: string; digest?: string }][] = [
        ["busybox", { path: "busybox" }],
        ["busybox:1.36", { path: "busybox", tag: "1.36" }],
        ["library/busybox:latest", { path: "library/busybox", tag: "latest" }],
        ["tonistiigi/binfmt:qemu-v8.1.5", { path: "tonistiigi/binfmt", tag: "qemu-v8.1.5" }],
        [`tonistiigi/binfmt:qemu-v8.1.5@${D}`, { path: "tonistiigi/binfmt", tag: "qemu-v8.1.5", digest: D }],
        ["10.213.77.1:5443/testenv/busybox:1", { domain: "10.213.77.1:5443", path: "testenv/busybox", tag: "1" }],
        ["localhost/app", { domain: "localhost", path: "app" }],
        ["localhost:5000/a/b/c:t", { domain: "localhost:5000", path: "a/b/c", tag: "t" }],
        ["123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1", { domain: "123456789012.dkr.ecr.us-east-1.amazonaws.com", path: "app", tag: "v1" }],
        ["ghcr.io/org/my_app__x-y:1", { domain: "ghcr.io", path: "org/my_app__x-y", tag: "1" }],
        [`repo@${D}`, { path: "repo", digest: D }],
    ];
    for (const [input, expected] of valid) {
        it(`parses ${input}`, () => {
            const result = parseReference(input);
            assert.ok(result.ok, !result.ok ? result.reason : "");
            if (result.ok) {
                const { domain, path, tag, digest } = result.ref;
                assert.deepStrictEqual({ domain, path, tag, digest }, { domain: undefined, tag: undefined, digest: undefined, ...expected });
            }
        });
    }

    const invalid: [string, RegExp][] = [
        ["", /non-empty/],
        ["UPPER/case:1", /not a valid image reference/],
        ["app:", /not a valid image reference/],
        ["app:tag with space", /not a valid image reference/],
        ["-app", /not a valid image reference/],
        ["app::1", /not a valid image reference/],
        ["app@sha256:xyz", /not a valid image reference/],
        ["https://ghcr.io/app", /not a valid image reference/],
        ["a/" + "b".repeat(260), /longer than 255/],
    ];
    for (const [input, pattern] of invalid) {
        it(`rejects ${JSON.stringify(input.slice(0, 40))}`, () => {
            const result = parseReference(input);
            assert.strictEqual(result.ok, false);
            if (!result.ok) assert.match(result.reason, pattern);
        });
    }

    it("pins a tag to a digest", () => {
        assert.strictEqual(pinnedRef("10.0.0.1:5000/team/app:1.0", D), `10.0.0.1:5000/team/app@${D}`);
        assert.strictEqual(pinnedRef("app", D), `app@${D}`);
    });

    it("names the registry of a reference, Docker Hub's aliases as docker.io", () => {
        const table: [string, string][] = [
            ["alpine", "docker.io"],
            ["acme/app:1", "docker.io"],
            ["docker.io/acme/app", "docker.io"],
            ["index.docker.io/acme/app", "docker.io"],
            ["registry-1.docker.io/acme/app", "docker.io"],
            ["docker.io.example.com/acme/app", "docker.io.example.com"],
            ["localhost:5000/app", "localhost:5000"],
            ["10.0.0.1:5000/team/app:1.0", "10.0.0.1:5000"],
            ["ghcr.io/acme/app", "ghcr.io"],
        ];
        for (const [input, registry] of table) {
            const parsed = parseReference(input);
            assert.ok(parsed.ok, input);
            assert.strictEqual(registryOf(parsed.ref), registry, input);
        }
    });
});
