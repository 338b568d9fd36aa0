import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { BinfmtArgs, DEFAULT_BINFMT_IMAGE } from "../../../src/binfmt/args";
import { validateBinfmtArgs } from "../../../src/binfmt/validate";
import { parseReference } from "../../../src/reference";

describe("Binfmt argument validation", () => {
    it("normalises platforms and fills the defaults", () => {
        const v = validateBinfmtArgs("qemu", { platforms: ["arm64", "linux/arm/v7", "armel", "x86_64"] });
        assert.deepStrictEqual(v, {
            platforms: ["linux/arm64", "linux/arm/v7", "linux/arm/v6", "linux/amd64"],
            image: DEFAULT_BINFMT_IMAGE,
            uninstallOnDelete: false,
        });
    });

    it('accepts "all", an image of its own, every kind of dockerHost, and uninstallOnDelete', () => {
        for (const dockerHost of ["unix:///var/run/docker.sock", "ssh://root@10.0.0.5", "ssh://me@host:2222/run/docker.sock", "tcp://10.0.0.5:2376"]) {
            const v = validateBinfmtArgs("qemu", { platforms: "all", image: "10.0.0.1:5000/tools/binfmt:1", dockerHost, uninstallOnDelete: true });
            assert.deepStrictEqual(v, { platforms: "all", image: "10.0.0.1:5000/tools/binfmt:1", uninstallOnDelete: true });
        }
    });

    it("leaves an Output dockerHost to the component's check once known", () => {
        assert.doesNotThrow(() => validateBinfmtArgs("qemu", { platforms: ["arm64"], dockerHost: pulumi.output("anything") }));
    });

    it("pins the default installer to a QEMU release tag and an index digest", () => {
        const result = parseReference(DEFAULT_BINFMT_IMAGE);
        assert.ok(result.ok);
        assert.strictEqual(result.ref.repository, "tonistiigi/binfmt");
        assert.match(result.ref.tag ?? "", /^qemu-v\d+\.\d+\.\d+$/);
        assert.match(result.ref.digest ?? "", /^sha256:[0-9a-f]{64}$/);
    });

    const cases: [string, Partial<BinfmtArgs> & Record<string, unknown>, string, RegExp][] = [
        ["unknown platform", { platforms: ["linux/arm64", "linux/arm65"] }, "platforms[1]", /unknown architecture "arm65".*linux\/arm64/],
        ["non-linux platform", { platforms: ["windows/amd64"] }, "platforms[0]", /only linux platforms/],
        ["duplicate platform (alias)", { platforms: ["linux/arm64", "aarch64"] }, "platforms[1]", /"aarch64".*same as platforms\[0\] \(linux\/arm64\)/],
        ["empty platform list", { platforms: [] }, "platforms", /\[\] is not valid: expected "all" or a non-empty list/],
        ["missing platforms", { platforms: undefined }, "platforms", /undefined is not valid: expected "all" or a non-empty list/],
        [
            'a platform string that is not "all"',
            { platforms: "linux/arm64" as never },
            "platforms",
            /"linux\/arm64" is not valid: expected "all" or a non-empty list/,
        ],
        ['"all" inside a list', { platforms: ["linux/arm64", "all"] }, "platforms[1]", /give `platforms: "all"` instead of a list/],
        ["image that is not a reference", { image: "Tonistiigi/Binfmt:latest" }, "image", /"Tonistiigi\/Binfmt:latest" is not a valid image reference/],
        ["image with spaces", { image: "binfmt --install all" }, "image", /is not a valid image reference/],
        ["empty image", { image: "" }, "image", /non-empty string/],
        ["image that is not a string", { image: 42 as never }, "image", /42 is not valid: expected an image reference/],
        ["dockerHost without a scheme", { dockerHost: "10.0.0.5:2376" }, "dockerHost", /"10.0.0.5:2376" is not valid: expected a Docker endpoint/],
        ["dockerHost with an unknown scheme", { dockerHost: "https://10.0.0.5" }, "dockerHost", /ssh:\/\/user@host/],
        ["empty dockerHost", { dockerHost: "" }, "dockerHost", /expected a Docker endpoint/],
        ["uninstallOnDelete not boolean", { uninstallOnDelete: "yes" as never }, "uninstallOnDelete", /"yes" is not valid: expected true or false/],
    ];
    for (const [title, patch, property, message] of cases) {
        it(`rejects ${title} naming ${property}`, () => {
            const args = { platforms: ["linux/arm64"], ...patch } as BinfmtArgs;
            assert.throws(
                () => validateBinfmtArgs("qemu", args),
                (err: unknown) => {
                    assert.ok(err instanceof pulumi.InputPropertiesError, `expected InputPropertiesError, got ${err}`);
                    const found = err.errors.find((e) => e.propertyPath === property);
                    assert.ok(found, `no error for ${property}: ${JSON.stringify(err.errors)}`);
                    assert.match(found.reason, message);
                    assert.match(err.message, /^Binfmt "qemu" has invalid arguments:/);
                    return true;
                },
            );
        });
    }

    it("reports every problem at once", () => {
        assert.throws(
            () =>
                validateBinfmtArgs("qemu", { platforms: ["arm65", "armhf", "arm/v7"], image: "Bad Image", dockerHost: "nope", uninstallOnDelete: 1 as never }),
            (err: pulumi.InputPropertiesError) => {
                assert.deepStrictEqual(
                    err.errors.map((e) => e.propertyPath),
                    ["platforms[0]", "platforms[2]", "image", "dockerHost", "uninstallOnDelete"],
                );
                return true;
            },
        );
    });

    it("rejects missing args", () => {
        assert.throws(() => validateBinfmtArgs("qemu", undefined as never), /args: is required/);
    });
});
