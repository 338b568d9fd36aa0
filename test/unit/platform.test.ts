import * as assert from "assert";
import { formatPlatform, normalizePlatform, parsePlatform, platformOfDescriptor, SUPPORTED_PLATFORMS } from "../../src/platform";

describe("platform", () => {
    const normalised: [string, string][] = [
        ["linux/amd64", "linux/amd64"],
        ["amd64", "linux/amd64"],
        ["x86_64", "linux/amd64"],
        ["linux/x86_64", "linux/amd64"],
        ["linux/x86-64", "linux/amd64"],
        ["linux/amd64/v1", "linux/amd64"],
        ["linux/arm64", "linux/arm64"],
        ["arm64", "linux/arm64"],
        ["aarch64", "linux/arm64"],
        ["linux/aarch64", "linux/arm64"],
        ["linux/arm64/v8", "linux/arm64"],
        ["linux/arm/v7", "linux/arm/v7"],
        ["linux/arm", "linux/arm/v7"],
        ["arm", "linux/arm/v7"],
        ["arm/v7", "linux/arm/v7"],
        ["linux/arm/7", "linux/arm/v7"],
        ["linux/armhf", "linux/arm/v7"],
        ["armhf", "linux/arm/v7"],
        ["linux/arm/v6", "linux/arm/v6"],
        ["linux/armel", "linux/arm/v6"],
        ["linux/386", "linux/386"],
        ["i386", "linux/386"],
        ["linux/i686", "linux/386"],
        ["linux/ppc64le", "linux/ppc64le"],
        ["linux/s390x", "linux/s390x"],
        ["linux/riscv64", "linux/riscv64"],
        ["LINUX/ARM64", "linux/arm64"],
        [" linux/amd64 ", "linux/amd64"],
    ];
    for (const [input, expected] of normalised) {
        it(`normalises ${JSON.stringify(input)} to ${expected}`, () => {
            assert.strictEqual(normalizePlatform(input), expected);
        });
    }

    const rejected: [string, RegExp][] = [
        ["linux/arm65", /unknown architecture "arm65"/],
        ["windows/amd64", /only linux platforms/],
        ["darwin/arm64", /only linux platforms/],
        ["linux/arm64/v9", /unsupported variant "v9"/],
        ["linux/arm/v8", /unsupported variant "v8"/],
        ["linux/armhf/v6", /unsupported variant "v6"/],
        ["linux/amd64/v2", /unsupported variant "v2"/],
        ["linux/riscv64/v1", /unsupported variant/],
        ["", /is not a platform/],
        ["linux/", /is not a platform/],
        ["linux", /is not a platform/],
        ["linux/arm/v7/x", /is not a platform/],
        ["mips", /unknown architecture "mips"/],
    ];
    for (const [input, pattern] of rejected) {
        it(`rejects ${JSON.stringify(input)}, listing the valid forms`, () => {
            const result = parsePlatform(input);
            assert.strictEqual(result.ok, false);
            if (!result.ok) {
                assert.match(result.reason, pattern);
                assert.match(result.reason, /linux\/amd64, linux\/arm64, linux\/arm\/v7/);
            }
            assert.throws(() => normalizePlatform(input), pattern);
        });
    }

    it("round-trips every supported platform", () => {
        for (const p of SUPPORTED_PLATFORMS) {
            const result = parsePlatform(p);
            assert.ok(result.ok, p);
            if (result.ok) {
                assert.strictEqual(formatPlatform(result.platform), p);
            }
        }
    });

    it("normalises OCI descriptor platforms and skips attestations", () => {
        assert.strictEqual(platformOfDescriptor({ os: "linux", architecture: "arm64", variant: "v8" }), "linux/arm64");
        assert.strictEqual(platformOfDescriptor({ os: "linux", architecture: "arm", variant: "v7" }), "linux/arm/v7");
        assert.strictEqual(platformOfDescriptor({ os: "unknown", architecture: "unknown" }), undefined);
        assert.strictEqual(platformOfDescriptor(undefined), undefined);
    });
});
