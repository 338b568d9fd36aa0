import * as assert from "assert";
import { platformDigestsFromIndex, parseBuildOutput, sha256, digestsOfBuild } from "../../../src/image/digests";
import { RESULT_MARKER } from "../../../src/image/plan";

const d = (c: string) => `sha256:${c.repeat(64)}`;

function index(manifests: object[]): Buffer {
    return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests }, null, 2));
}

const amd = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: d("1"), size: 1, platform: { os: "linux", architecture: "amd64" } };
const arm = {
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: d("2"),
    size: 1,
    platform: { os: "linux", architecture: "arm64", variant: "v8" },
};
const armv7 = {
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: d("3"),
    size: 1,
    platform: { os: "linux", architecture: "arm", variant: "v7" },
};
const att = {
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: d("4"),
    size: 1,
    platform: { os: "unknown", architecture: "unknown" },
    annotations: { "vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": d("1") },
};

describe("per-platform digests from an index", () => {
    it("maps each requested platform to its manifest digest, skipping attestations", () => {
        const raw = index([amd, att, arm, armv7]);
        const r = platformDigestsFromIndex(raw, ["linux/amd64", "linux/arm64", "linux/arm/v7"], sha256(raw));
        assert.deepStrictEqual(r.platformDigests, { "linux/amd64": d("1"), "linux/arm64": d("2"), "linux/arm/v7": d("3") });
        assert.strictEqual(r.digest, sha256(raw));
    });

    it("fails when the bytes do not hash to the reported digest", () => {
        assert.throws(() => platformDigestsFromIndex(index([amd]), ["linux/amd64"], d("f")), /hashes to sha256:.* but the build reported sha256:f{64}/);
    });

    const bad: [string, object[], string[], RegExp][] = [
        ["a missing platform", [amd], ["linux/amd64", "linux/arm64"], /missing linux\/arm64/],
        ["a platform twice", [amd, { ...amd, digest: d("5") }], ["linux/amd64"], /more than once: linux\/amd64/],
        ["an unrequested platform", [amd, arm], ["linux/amd64"], /not requested: linux\/arm64/],
    ];
    for (const [title, manifests, requested, msg] of bad) {
        it(`fails on ${title}`, () => assert.throws(() => platformDigestsFromIndex(index(manifests), requested as never), msg));
    }

    it("reads a subset of an image's platforms when asked to", () => {
        const r = platformDigestsFromIndex(index([amd, arm, armv7]), ["linux/arm64"], undefined, { allowUnrequested: true });
        assert.deepStrictEqual(r.platformDigests, { "linux/arm64": d("2") });
    });

    it("treats a single image manifest as the one requested platform", () => {
        const raw = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: d("9") }, layers: [] }));
        assert.deepStrictEqual(platformDigestsFromIndex(raw, ["linux/arm64"]).platformDigests, { "linux/arm64": sha256(raw) });
    });

    it("decodes the build script's result line and checks it", () => {
        const raw = index([amd, arm]);
        const metadata = { "containerimage.digest": sha256(raw) };
        const b64 = (x: string | Buffer) => Buffer.from(x).toString("base64");
        const stdout = `noise\n${RESULT_MARKER}${JSON.stringify({ metadata: b64(JSON.stringify(metadata)), layout: b64("{}"), index: b64(raw) })}`;
        const r = digestsOfBuild(parseBuildOutput(stdout), ["linux/amd64", "linux/arm64"]);
        assert.deepStrictEqual(r?.platformDigests, { "linux/amd64": d("1"), "linux/arm64": d("2") });
        assert.throws(() => parseBuildOutput("no result here"), /printed no result line/);
    });

    it("picks the OCI layout's index among its blobs by index.json's top entry, and checks its bytes", () => {
        const raw = index([amd, arm]);
        const top = sha256(raw);
        const b64 = (x: string | Buffer) => Buffer.from(x).toString("base64");
        const other = Buffer.from('{"schemaVersion":2,"config":{}}');
        const stdoutWith = (blobs: [string, Buffer][]) =>
            `${RESULT_MARKER}${JSON.stringify({
                metadata: b64("{}"),
                layout: b64(JSON.stringify({ manifests: [{ mediaType: "application/vnd.oci.image.index.v1+json", digest: top }] })),
                index: "",
                blobs: b64(blobs.map(([hex, bytes]) => `${hex} ${b64(bytes)}\n`).join("")),
            })}`;
        const hex = (digest: string) => digest.slice("sha256:".length);
        const r = digestsOfBuild(
            parseBuildOutput(
                stdoutWith([
                    [hex(sha256(other)), other],
                    [hex(top), raw],
                ]),
            ),
            ["linux/amd64", "linux/arm64"],
        );
        assert.deepStrictEqual(r, { digest: top, platformDigests: { "linux/amd64": d("1"), "linux/arm64": d("2") }, attestationDigests: {} });
        assert.throws(
            () => digestsOfBuild(parseBuildOutput(stdoutWith([[hex(sha256(other)), other]])), ["linux/amd64"]),
            new RegExp(`index.json names ${top}, which is not among its blobs of up to 64 KiB`),
        );
        assert.throws(
            () => digestsOfBuild(parseBuildOutput(stdoutWith([[hex(top), other]])), ["linux/amd64"]),
            /read-back check failed: the index read back hashes to sha256:[0-9a-f]{64}, but the build reported/,
        );
    });
});
