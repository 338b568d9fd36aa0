import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { MultiPlatformImageArgs } from "../../../src/image/args";
import { validateImageArgs } from "../../../src/image/validate";
import { planImageBuild } from "../../../src/image/build";

describe("MultiPlatformImage per-platform, secret source and ssh validation", () => {
    let ctx: string;
    before(() => {
        ctx = fs.mkdtempSync(path.join(os.tmpdir(), "validate-pp-"));
        fs.writeFileSync(path.join(ctx, "Dockerfile"), "FROM scratch\n");
    });
    after(() => fs.rmSync(ctx, { recursive: true, force: true }));

    const base = (): MultiPlatformImageArgs => ({ context: ctx, platforms: ["linux/amd64", "arm64"], tags: ["10.0.0.1:5000/app:1"] });

    it("platformBuilders implies perPlatform, keyed by the normalised platform", () => {
        const v = validateImageArgs("app", { ...base(), platformBuilders: { aarch64: "arm-builder" } });
        assert.strictEqual(v.perPlatform, true);
        assert.deepStrictEqual(v.platformBuilderKeys, { "linux/arm64": "aarch64" });
        assert.strictEqual(validateImageArgs("app", base()).perPlatform, false);
        assert.strictEqual(validateImageArgs("app", { ...base(), perPlatform: true }).perPlatform, true);
    });

    it("splits secrets into values (environment) and sources read at build time", () => {
        const v = validateImageArgs("app", { ...base(), secrets: { A: "x", B: { env: "MY_TOKEN" }, C: { file: "./token.txt" }, D: pulumi.secret("y") } });
        assert.deepStrictEqual(v.secretIds, ["A", "D"]);
        assert.deepStrictEqual(v.secretSources, [
            { id: "B", env: "MY_TOKEN" },
            { id: "C", file: "./token.txt" },
        ]);
    });

    it("defaults ssh paths to none (SSH_AUTH_SOCK)", () => {
        const v = validateImageArgs("app", { ...base(), ssh: [{ id: "default" }, { id: "deploy", paths: ["/keys/deploy.pem"] }] });
        assert.deepStrictEqual(v.ssh, [
            { id: "default", paths: [] },
            { id: "deploy", paths: ["/keys/deploy.pem"] },
        ]);
    });

    const cases: [string, Partial<MultiPlatformImageArgs>, string, RegExp][] = [
        [
            "a platformBuilders key that is not built",
            { platformBuilders: { "linux/386": "b" } },
            "platformBuilders.linux/386",
            /one of the platforms built \(linux\/amd64, linux\/arm64\)/,
        ],
        ["a platformBuilders key that is no platform", { platformBuilders: { "linux/arm65": "b" } }, "platformBuilders.linux/arm65", /unknown architecture/],
        [
            "a platform twice in platformBuilders",
            { platformBuilders: { arm64: "b", "linux/arm64": "c" } },
            "platformBuilders.linux/arm64",
            /each platform once: it is the same as platformBuilders\.arm64/,
        ],
        ["a bad builder name in platformBuilders", { platformBuilders: { arm64: "Bad Name" } }, "platformBuilders.arm64", /a buildx builder name/],
        [
            "perPlatform false with platformBuilders",
            { perPlatform: false, platformBuilders: { arm64: "b" } },
            "perPlatform",
            /is false but `platformBuilders` is given/,
        ],
        [
            "perPlatform with an OCI export",
            { perPlatform: true, tags: [], output: { type: "oci", dest: "/tmp/x" } },
            "output",
            /is "oci", but perPlatform pushes each platform by digest/,
        ],
        ["perPlatform with load", { perPlatform: true, load: true }, "load", /is true, but perPlatform pushes each platform by digest/],
        ["perPlatform with push false", { perPlatform: true, push: false }, "push", /is false, but perPlatform pushes each platform by digest/],
        [
            "perPlatform with tags in two registries",
            { perPlatform: true, tags: ["10.0.0.1:5000/app:1", "ghcr.io/org/app:1"] },
            "tags[1]",
            /expected a tag in 10\.0\.0\.1:5000, the registry of tags\[0\]/,
        ],
        [
            "perPlatform with a cache ref by digest",
            { perPlatform: true, cacheTo: [{ type: "registry", ref: `r.io/c@sha256:${"a".repeat(64)}` }] },
            "cacheTo[0].ref",
            /expected a reference with a tag and no digest/,
        ],
        ["a secret source with both env and file", { secrets: { A: { env: "X", file: "y" } as never } }, "secrets.A", /\{ env: "VAR" \} or \{ file: "path" \}/],
        ["a secret env that is not a variable name", { secrets: { A: { env: "1X" } } }, "secrets.A.env", /an environment variable name/],
        ["a secret env the script sets itself", { secrets: { A: { env: "PULUMI_BUILDX_SECRET_A" } } }, "secrets.A.env", /a variable of your own/],
        ["a secret env the script sets itself (work)", { secrets: { A: { env: "work" } } }, "secrets.A.env", /a variable of your own/],
        ["an empty secret file", { secrets: { A: { file: "" } } }, "secrets.A.file", /a file path/],
        ["an ssh id with =", { ssh: [{ id: "a=b" }] }, "ssh[0].id", /an id of letters, digits/],
        ["an ssh id twice", { ssh: [{ id: "default" }, { id: "default" }] }, "ssh[1].id", /each id once/],
        ["an ssh path with a comma", { ssh: [{ id: "default", paths: ["/a,b"] }] }, "ssh[0].paths[0]", /a path without `,`/],
        ["ssh that is not a list", { ssh: { id: "default" } as never }, "ssh", /a list of \{ id, paths\? \}/],
    ];
    for (const [what, patch, property, reason] of cases) {
        it(`rejects ${what} naming ${property}`, () => {
            try {
                validateImageArgs("app", { ...base(), ...patch });
                assert.fail("expected an InputPropertiesError");
            } catch (err) {
                assert.ok(pulumi.InputPropertiesError.isInstance(err), String(err));
                const found = (err as pulumi.InputPropertiesError).errors?.find((e) => e.propertyPath === property);
                assert.ok(found, `no problem at ${property}: ${(err as Error).message}`);
                assert.match(found!.reason, reason);
            }
        });
    }

    it("buildImage (one build, no Pulumi state) refuses perPlatform and platformBuilders, naming them", () => {
        for (const [property, extra] of [
            ["perPlatform", { perPlatform: true }],
            ["platformBuilders", { platformBuilders: { arm64: "b" } }],
        ] as const) {
            assert.throws(
                () => planImageBuild({ ...base(), builder: "b", ...(extra as object) } as never),
                (err: Error) => err.message.includes(`- ${property}: is not supported by buildImage`),
            );
        }
    });
});
