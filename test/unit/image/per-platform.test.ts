import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fc from "fast-check";
import { BuildPlanInput } from "../../../src/image/plan";
import {
    cacheRefsOf,
    checkPerPlatformLate,
    digestOfPlatformBuild,
    digestsOfMerge,
    MERGE_MARKER,
    perPlatformCacheRef,
    planMerge,
    planPlatformBuild,
    platformSlug,
    tagRegistryProblem,
} from "../../../src/image/per-platform";
import { RESULT_MARKER } from "../../../src/image/plan";
import { sha256 } from "../../../src/image/digests";
import { parseReference } from "../../../src/reference";
import { renderScript } from "../../../src/shell";
import { SUPPORTED_PLATFORMS } from "../../../src/platform";
import { expectGolden } from "../../harness/golden";
import { planInput } from "./plan-input";

function input(patch: Partial<BuildPlanInput> = {}): BuildPlanInput {
    return planInput({
        buildArgs: { VERSION: "1" },
        cacheFrom: [{ type: "registry", ref: "10.0.0.1:5000/team/app:cache" }],
        cacheTo: [{ type: "registry", ref: "10.0.0.1:5000/team/app:cache", mode: "max" }, { type: "inline" }],
        ...patch,
    });
}

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;

const b64 = (x: Buffer | string) => Buffer.from(x).toString("base64");

describe("per-platform plan", () => {
    it("names children and cache tags after the platform", () => {
        const cases: [string, string][] = [
            ["linux/amd64", "linux-amd64"],
            ["linux/arm64", "linux-arm64"],
            ["linux/arm/v7", "linux-arm-v7"],
        ];
        for (const [p, slug] of cases) assert.strictEqual(platformSlug(p as never), slug);
    });

    it("appends the platform to the cache ref's tag (latest when it has none)", () => {
        const cases: [string, string, string][] = [
            ["repo:cache", "linux/arm64", "repo:cache-linux-arm64"],
            ["10.0.0.1:5000/team/app:buildcache", "linux/arm/v7", "10.0.0.1:5000/team/app:buildcache-linux-arm-v7"],
            ["ghcr.io/org/cache", "linux/amd64", "ghcr.io/org/cache:latest-linux-amd64"],
        ];
        for (const [ref, platform, expected] of cases) assert.strictEqual(perPlatformCacheRef(ref, platform as never), expected);
    });

    it("gives every platform a distinct, valid cache ref in the same repository (property)", () => {
        const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,100}$/);
        fc.assert(
            fc.property(tag, (t) => {
                const refs = SUPPORTED_PLATFORMS.map((p) => perPlatformCacheRef(`10.0.0.1:5000/c:${t}`, p));
                assert.strictEqual(new Set(refs).size, refs.length);
                for (const r of refs) {
                    const parsed = parseReference(r);
                    assert.ok(parsed.ok && parsed.ref.repository === "10.0.0.1:5000/c", r);
                }
            }),
        );
    });

    it("refuses tags in more than one registry, naming the first one that differs", () => {
        assert.strictEqual(tagRegistryProblem(["r.example.com/a:1", "r.example.com/b:2"]), undefined);
        assert.strictEqual(tagRegistryProblem(["app:1", "docker.io/library/app:2"]), undefined);
        // Docker Hub under each of its names (a short name means docker.io too) is one registry.
        assert.strictEqual(tagRegistryProblem(["docker.io/acme/x:1", "index.docker.io/acme/x:2", "registry-1.docker.io/acme/x:3", "acme/x:4"]), undefined);
        assert.strictEqual(tagRegistryProblem(["alpine:1", "index.docker.io/library/alpine:2"]), undefined);
        assert.match(tagRegistryProblem(["index.docker.io/acme/x:1", "docker.io.example.com/acme/x:2"])!.reason, /expected a tag in docker\.io,/);
        const p = tagRegistryProblem(["r.example.com/a:1", "r.example.com/a:2", "ghcr.io/a:1"]);
        assert.strictEqual(p?.index, 2);
        assert.match(p!.reason, /"ghcr\.io\/a:1" is not valid with perPlatform: expected a tag in r\.example\.com/);
    });

    it("checks late tags and cache refs with property paths", () => {
        assert.throws(
            () =>
                checkPerPlatformLate("app", {
                    ...input(),
                    tags: ["10.0.0.1:5000/a:1", "ghcr.io/a:1"],
                    cacheTo: [{ type: "registry", ref: `10.0.0.1:5000/c@${D1}` }],
                }),
            /tags\[1\]: "ghcr\.io\/a:1" is not valid with perPlatform[\s\S]*cacheTo\[0\]\.ref: "10\.0\.0\.1:5000\/c@sha256:1+" is not valid with perPlatform: expected a reference with a tag and no digest/,
        );
        assert.throws(
            () => checkPerPlatformLate("app", { ...input(), cacheFrom: [{ type: "registry", ref: `r.io/c:${"x".repeat(120)}` }] }),
            /cacheFrom\[0\]\.ref: .* would be 132 characters, more than the 128/,
        );
    });

    it("maps the cacheRefs output from the first registry cacheTo, else cacheFrom; other refs are mapped too but not listed", () => {
        assert.deepStrictEqual(cacheRefsOf(input(), ["linux/amd64", "linux/arm64"]), {
            "linux/amd64": "10.0.0.1:5000/team/app:cache-linux-amd64",
            "linux/arm64": "10.0.0.1:5000/team/app:cache-linux-arm64",
        });
        assert.deepStrictEqual(cacheRefsOf(input({ cacheTo: [], cacheFrom: [{ type: "registry", ref: "r.io/x:c" }] }), ["linux/arm64"]), {
            "linux/arm64": "r.io/x:c-linux-arm64",
        });
        assert.deepStrictEqual(cacheRefsOf(input({ cacheTo: [{ type: "inline" }], cacheFrom: [] }), ["linux/arm64"]), {});
        // Different refs: cacheRefs names the one exported to; the build imports the other one's platform ref too.
        const two = input({ cacheFrom: [{ type: "registry", ref: "r.io/x:main" }], cacheTo: [{ type: "registry", ref: "r.io/x:pr-7" }] });
        assert.deepStrictEqual(cacheRefsOf(two, ["linux/arm64"]), { "linux/arm64": "r.io/x:pr-7-linux-arm64" });
        assert.match(
            renderScript(planPlatformBuild(two, "linux/arm64", undefined)),
            / --cache-from type=registry,ref=r\.io\/x:main-linux-arm64 --cache-to type=registry,ref=r\.io\/x:pr-7-linux-arm64,mode=min /,
        );
    });

    it("matches golden/per-platform-build.sh: one platform, no tag, pushed by digest, its own cache; passes bash -n", () => {
        const script = renderScript(planPlatformBuild(input(), "linux/arm64", "arm-builder"));
        expectGolden("per-platform-build.sh", script);
        execFileSync("bash", ["-n", "-c", script]);
        assert.ok(!script.includes("--tag"), script);
        assert.match(
            script,
            / --platform linux\/arm64 .*--cache-from type=registry,ref=10\.0\.0\.1:5000\/team\/app:cache-linux-arm64 --cache-to type=registry,ref=10\.0\.0\.1:5000\/team\/app:cache-linux-arm64,mode=max --cache-to type=inline .*--output type=image,name=10\.0\.0\.1:5000\/team\/app,push-by-digest=true,name-canonical=true,push=true /,
        );
    });

    it("matches golden/merge.sh: every tag from each platform's digest, then read back; passes bash -n", () => {
        const plan = planMerge({
            tags: input().tags,
            builder: "fleet",
            sources: [
                { platform: "linux/amd64", digest: D1 },
                { platform: "linux/arm64", digest: D2 },
            ],
            registryPasswordCommands: [undefined],
        });
        const script = renderScript(plan);
        expectGolden("merge.sh", script);
        execFileSync("bash", ["-n", "-c", script]);
        assert.deepStrictEqual(Object.keys(plan.env), [
            "PULUMI_BUILDX_REGISTRY_0_ADDRESS",
            "PULUMI_BUILDX_REGISTRY_0_USERNAME",
            "PULUMI_BUILDX_REGISTRY_0_PASSWORD",
        ]);
        assert.match(
            script,
            /imagetools create --builder fleet --tag 10\.0\.0\.1:5000\/team\/app:1\.0 --tag 10\.0\.0\.1:5000\/team\/app:latest -- 10\.0\.0\.1:5000\/team\/app@sha256:1+ 10\.0\.0\.1:5000\/team\/app@sha256:2+ >&2/,
        );
    });

    it("reads a platform build's digest from its metadata, or fails naming the platform", () => {
        const line = (metadata: object) => `noise\n${RESULT_MARKER}{"metadata":"${b64(JSON.stringify(metadata))}","layout":"${b64("{}")}","index":""}\n`;
        assert.strictEqual(digestOfPlatformBuild(line({ "containerimage.digest": D1 }), "linux/arm64"), D1);
        assert.throws(() => digestOfPlatformBuild(line({}), "linux/arm64"), /the linux\/arm64 build reported no image digest/);
    });

    describe("merge read-back", () => {
        const manifest = (n: string) => Buffer.from(JSON.stringify({ mediaType: "application/vnd.oci.image.manifest.v1+json", config: { n } }));
        const amd = manifest("amd");
        const arm = manifest("arm");
        const desc = (bytes: Buffer, platform: object) => ({ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: sha256(bytes), platform });
        const armIndex = Buffer.from(
            JSON.stringify({
                mediaType: "application/vnd.oci.image.index.v1+json",
                manifests: [
                    desc(arm, { os: "linux", architecture: "arm64" }),
                    {
                        ...desc(manifest("att"), { os: "unknown", architecture: "unknown" }),
                        annotations: { "vnd.docker.reference.type": "attestation-manifest" },
                    },
                ],
            }),
        );
        const merged = (armDigest = sha256(arm)) =>
            Buffer.from(
                JSON.stringify({
                    mediaType: "application/vnd.oci.image.index.v1+json",
                    manifests: [desc(amd, { os: "linux", architecture: "amd64" }), { ...desc(arm, { os: "linux", architecture: "arm64" }), digest: armDigest }],
                }),
            );
        const out = (index: Buffer, descriptorDigest = sha256(index)) =>
            `${MERGE_MARKER}${JSON.stringify({ index: b64(index), descriptor: b64(JSON.stringify({ digest: descriptorDigest })), source0: b64(amd), source1: b64(armIndex) })}\n`;
        const sources = [
            { platform: "linux/amd64" as const, digest: sha256(amd) },
            { platform: "linux/arm64" as const, digest: sha256(armIndex) },
        ];

        it("gives the index digest and each platform's manifest, checked against each build's own push", () => {
            const index = merged();
            assert.deepStrictEqual(digestsOfMerge(out(index), sources), {
                digest: sha256(index),
                platformDigests: { "linux/amd64": sha256(amd), "linux/arm64": sha256(arm) },
                attestationDigests: {},
            });
        });

        it("fails when the index does not hash to the registry's descriptor", () => {
            assert.throws(() => digestsOfMerge(out(merged(), D1), sources), /read-back check failed: the index read back hashes to/);
        });

        it("fails when a platform in the index is not what its build pushed", () => {
            assert.throws(() => digestsOfMerge(out(merged(D2)), sources), /the merged index lists sha256:2+ for linux\/arm64, but its build pushed sha256:/);
        });

        it("fails when a source does not hash to its build's digest", () => {
            assert.throws(
                () => digestsOfMerge(out(merged()), [sources[0], { platform: "linux/arm64", digest: D2 }]),
                /hashes to .* but the build reported sha256:2+/,
            );
        });
    });
});
