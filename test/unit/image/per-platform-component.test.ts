import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { MultiPlatformImage } from "../../../src";
import { RESULT_MARKER } from "../../../src/image/plan";
import { Harness, runProgram, unwrap } from "../../harness";

const COMMAND = "command:local:Command";
const digestOf = (name: string) => `sha256:${(name.endsWith("arm64") ? "a" : "b").repeat(64)}`;
const b64 = (s: string) => Buffer.from(s).toString("base64");

class FakeBuilder extends pulumi.ComponentResource {
    readonly name: pulumi.Output<string>;
    constructor(name: string) {
        super("buildx:index:Builder", name, {}, {});
        const create = new command.local.Command(`${name}-create`, { create: "docker buildx create --name arm-x" }, { parent: this });
        this.name = create.stdout.apply(() => "arm-x");
        this.registerOutputs({ name: this.name });
    }
}

describe("MultiPlatformImage perPlatform resource graph (commands recorded, not run)", () => {
    let harness: Harness;
    let ctx: string;
    beforeEach(async () => {
        harness = new Harness({ run: false });
        await harness.install();
        // Each platform build "prints" its pushed digest; the merge prints nothing (not run).
        harness.override(COMMAND, (args) =>
            /-build-linux-/.test(args.name)
                ? {
                      stdout: `${RESULT_MARKER}{"metadata":"${b64(JSON.stringify({ "containerimage.digest": digestOf(args.name) }))}","layout":"${b64("{}")}","index":""}\n`,
                  }
                : { stdout: undefined },
        );
        ctx = fs.mkdtempSync(path.join(os.tmpdir(), "graph-pp-"));
        fs.writeFileSync(path.join(ctx, "Dockerfile"), "FROM scratch\nCOPY a.txt /\n");
        fs.writeFileSync(path.join(ctx, "a.txt"), "a\n");
    });
    afterEach(() => {
        harness.dispose();
        fs.rmSync(ctx, { recursive: true, force: true });
    });

    it("creates one build per platform, independent of each other, and a merge from their digests", async () => {
        const { result, errors } = await runProgram(harness, () => {
            const armBuilder = new FakeBuilder("armb");
            return new MultiPlatformImage("app", {
                context: ctx,
                platforms: ["linux/amd64", "linux/arm64", "linux/arm/v7"],
                tags: ["10.0.0.1:5000/app:1", "10.0.0.1:5000/other:2"],
                builder: "local-b",
                platformBuilders: { arm64: armBuilder },
                secrets: { TOKEN: "tok-123", ROTATING: { env: "MY_TOKEN" } },
                cacheFrom: [{ type: "registry", ref: "10.0.0.1:5000/cache:c" }],
                cacheTo: [{ type: "registry", ref: "10.0.0.1:5000/cache:c", mode: "max" }],
            });
        });
        assert.deepStrictEqual(
            errors.map((e) => e.message),
            [],
        );
        const names = harness.ofType(COMMAND).map((r) => r.name);
        assert.deepStrictEqual(names.filter((n) => n.startsWith("app-")).sort(), [
            "app-build-linux-amd64",
            "app-build-linux-arm-v7",
            "app-build-linux-arm64",
            "app-merge",
        ]);
        const urnOf = (n: string) => `urn:pulumi:stack::project::buildx:index:MultiPlatformImage$command:local:Command::${n}`;
        for (const p of ["linux-amd64", "linux-arm64", "linux-arm-v7"]) {
            const child = harness.named(`app-build-${p}`);
            assert.strictEqual(child.parent, "urn:pulumi:stack::project::buildx:index:MultiPlatformImage::app");
            assert.ok(!child.dependencies.some((d) => d.includes("app-build-")), `${p} waits for no other platform: ${child.dependencies}`);
            assert.match(child.inputs.triggers[0], /^sha256:[0-9a-f]{64}$/);
            assert.deepStrictEqual(child.secretPaths, ["environment"]);
            assert.ok(!child.inputs.create.includes("--tag"), child.inputs.create);
            assert.match(child.inputs.create, new RegExp(`--cache-from type=registry,ref=10\\.0\\.0\\.1:5000/cache:c-${p} `));
            assert.match(child.inputs.create, /--secret id=ROTATING,env=MY_TOKEN /);
        }
        assert.match(harness.named("app-build-linux-arm64").inputs.create, /--builder arm-x --platform linux\/arm64 /);
        assert.match(harness.named("app-build-linux-amd64").inputs.create, /--builder local-b --platform linux\/amd64 /);
        assert.ok(
            harness.named("app-build-linux-arm64").dependencies.includes("urn:pulumi:stack::project::buildx:index:Builder$command:local:Command::armb-create"),
            "the arm64 build waits for its builder",
        );
        const merge = harness.named("app-merge");
        for (const p of ["linux-amd64", "linux-arm64", "linux-arm-v7"]) assert.ok(merge.dependencies.includes(urnOf(`app-build-${p}`)), p);
        assert.match(
            merge.inputs.create,
            new RegExp(
                `imagetools create --builder local-b --tag 10\\.0\\.0\\.1:5000/app:1 --tag 10\\.0\\.0\\.1:5000/other:2 -- 10\\.0\\.0\\.1:5000/app@${digestOf("amd64")} 10\\.0\\.0\\.1:5000/app@${digestOf("arm64")} 10\\.0\\.0\\.1:5000/app@${digestOf("v7")} >&2`,
            ),
        );
        // The merge gets no build secret; a value secret never reaches any command string.
        assert.strictEqual(merge.inputs.environment?.PULUMI_BUILDX_SECRET_TOKEN, undefined);
        assert.deepStrictEqual(harness.leaks("tok-123"), []);
        assert.deepStrictEqual(await unwrap(result!.cacheRefs), {
            "linux/amd64": "10.0.0.1:5000/cache:c-linux-amd64",
            "linux/arm64": "10.0.0.1:5000/cache:c-linux-arm64",
            "linux/arm/v7": "10.0.0.1:5000/cache:c-linux-arm-v7",
        });
    });

    it("keeps one build and an empty cacheRefs without perPlatform", async () => {
        const { result } = await runProgram(
            harness,
            () =>
                new MultiPlatformImage("one", {
                    context: ctx,
                    platforms: ["linux/amd64", "linux/arm64"],
                    tags: ["10.0.0.1:5000/app:1"],
                    cacheTo: [{ type: "registry", ref: "10.0.0.1:5000/cache:c" }],
                }),
        );
        assert.deepStrictEqual(
            harness.ofType(COMMAND).map((r) => r.name),
            ["one-build"],
        );
        assert.match(harness.named("one-build").inputs.create, /--cache-to type=registry,ref=10\.0\.0\.1:5000\/cache:c,mode=min /);
        assert.deepStrictEqual(await unwrap(result!.cacheRefs), {});
    });

    it("checks a late tag's registry once known, and registers no build", async () => {
        const { errors } = await runProgram(
            harness,
            () =>
                new MultiPlatformImage("late", {
                    context: ctx,
                    platforms: ["linux/amd64", "linux/arm64"],
                    perPlatform: true,
                    tags: ["10.0.0.1:5000/app:1", pulumi.output("ghcr.io/org/app:1")],
                }),
        );
        assert.match(
            errors.map((e) => e.message).join("\n"),
            /MultiPlatformImage "late" has invalid arguments:[\s\S]*tags\[1\]: "ghcr\.io\/org\/app:1" is not valid with perPlatform/,
        );
        assert.deepStrictEqual(harness.ofType(COMMAND), []);
    });
});
