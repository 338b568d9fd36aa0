import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parseInspect, unionOfPlatforms } from "../../../src/builder/inspect";

/** Recorded `docker buildx inspect` output of buildx 0.13.1 against the test environment. */
const recorded = (name: string) => fs.readFileSync(path.join(__dirname, "..", "..", "golden", "builder", name), "utf8");

describe("docker buildx inspect parser", () => {
    it("reads a two-node remote builder after bootstrap", () => {
        const r = parseInspect(recorded("inspect-remote.txt"));
        assert.strictEqual(r.name, "fleet");
        assert.strictEqual(r.driver, "remote");
        assert.deepStrictEqual(
            r.nodes.map((n) => [n.name, n.endpoint, n.status, n.buildkitVersion, n.pinnedPlatforms, n.platforms.length, n.error]),
            [
                ["amd", "tcp://10.213.77.11:1234", "running", "v0.0.0+unknown", ["linux/amd64"], 14, undefined],
                ["arm", "tcp://10.213.77.12:1234", "running", "v0.0.0+unknown", ["linux/arm64"], 14, undefined],
            ],
        );
        assert.strictEqual(r.nodes[1].platforms[0], "linux/arm64");
        assert.ok(r.nodes.every((n) => n.platforms.every((p) => !p.includes("*"))));
    });

    it("reads an unreachable node as inactive, without a version", () => {
        const r = parseInspect(recorded("inspect-remote-inactive.txt"));
        const gone = r.nodes.find((n) => n.name === "gone")!;
        assert.deepStrictEqual(gone, {
            name: "gone",
            endpoint: "tcp://10.213.77.99:1234",
            status: "inactive",
            platforms: ["linux/arm/v7"],
            pinnedPlatforms: ["linux/arm/v7"],
        });
        assert.strictEqual(r.nodes.length, 3);
    });

    it("reads docker-container nodes (local engine and ssh://) with daemon flags", () => {
        const r = parseInspect(recorded("inspect-docker-container.txt"));
        assert.strictEqual(r.driver, "docker-container");
        assert.deepStrictEqual(
            r.nodes.map((n) => [n.name, n.endpoint, n.status, n.pinnedPlatforms]),
            [
                ["local", "unix:///var/run/docker.sock", "running", ["linux/amd64"]],
                ["remote", "ssh://root@10.213.77.12", "running", ["linux/arm64"]],
            ],
        );
    });

    it("reads a node buildx cannot reach as status error with buildx's message", () => {
        const r = parseInspect(recorded("inspect-error.txt"));
        assert.strictEqual(r.nodes.length, 1);
        assert.strictEqual(r.nodes[0].status, "error");
        assert.match(r.nodes[0].error ?? "", /^error during connect: .*No route to host$/);
        assert.deepStrictEqual(r.nodes[0].platforms, []);
    });

    it("gives the union of platforms, each once", () => {
        const r = parseInspect(recorded("inspect-remote-inactive.txt"));
        const union = unionOfPlatforms(r.nodes);
        assert.strictEqual(new Set(union).size, union.length);
        assert.deepStrictEqual(union.slice(0, 2), ["linux/amd64", "linux/amd64/v2"]);
        assert.ok(union.includes("linux/arm/v7"));
    });

    it("returns no nodes for empty output", () => {
        assert.deepStrictEqual(parseInspect(""), { name: "", driver: "", nodes: [] });
    });
});
