import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { MultiPlatformImage } from "../../../src";
import { Harness, runProgram, unwrap } from "../../harness";
import { GUARDED_BASH } from "../../../src/guard";
import { buildStdout } from "../../../src/testing/answers";

class FakeBuilder extends pulumi.ComponentResource {
    readonly name: pulumi.Output<string>;
    constructor(name: string) {
        super("buildx:index:Builder", name, {}, {});
        const create = new command.local.Command(`${name}-create`, { create: "docker buildx create --name fleet-x" }, { parent: this });
        this.name = create.stdout.apply(() => "fleet-x");
        this.registerOutputs({ name: this.name });
    }
}

describe("MultiPlatformImage resource graph (commands recorded, not run)", () => {
    let harness: Harness;
    let ctx: string;
    beforeEach(async () => {
        harness = new Harness({ run: false });
        await harness.install();
        ctx = fs.mkdtempSync(path.join(os.tmpdir(), "graph-"));
        fs.writeFileSync(path.join(ctx, "Dockerfile"), "FROM scratch\nCOPY a.txt /\n");
        fs.writeFileSync(path.join(ctx, "a.txt"), "a\n");
        fs.writeFileSync(path.join(ctx, ".dockerignore"), "ignored.txt\n");
    });
    afterEach(() => {
        harness.dispose();
        fs.rmSync(ctx, { recursive: true, force: true });
    });

    const build = (name: string, extra: Record<string, unknown> = {}) =>
        runProgram(
            harness,
            () =>
                new MultiPlatformImage(name, {
                    context: ctx,
                    platforms: ["linux/amd64", "linux/arm64"],
                    tags: ["10.0.0.1:5000/app:1"],
                    ...extra,
                }),
        );

    it("creates one build Command parented to the component", async () => {
        await build("app");
        const component = harness.named("app");
        assert.strictEqual(component.type, "buildx:index:MultiPlatformImage");
        const cmd = harness.named("app-build");
        assert.strictEqual(cmd.type, "command:local:Command");
        assert.strictEqual(cmd.parent, "urn:pulumi:stack::project::buildx:index:MultiPlatformImage::app");
        assert.deepStrictEqual(cmd.inputs.interpreter, GUARDED_BASH);
        assert.match(cmd.inputs.create, /docker buildx build --platform linux\/amd64,linux\/arm64/);
        assert.match(cmd.inputs.triggers[0], /^sha256:[0-9a-f]{64}$/);
    });

    it("takes tags that are Outputs (e.g. an ECR repository URL) and checks them once known", async () => {
        const repoUrl = pulumi.output("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app");
        const { result, errors } = await build("app", { tags: [pulumi.interpolate`${repoUrl}:1.0`, "10.0.0.1:5000/app:1"] });
        // (Nothing runs here, so the only error is the missing build result.)
        assert.deepStrictEqual(
            errors.map((e) => e.message).filter((m) => !m.includes("the build printed no result line")),
            [],
        );
        assert.match(
            harness.named("app-build").inputs.create,
            /--tag 123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/app:1\.0 --tag 10\.0\.0\.1:5000\/app:1 /,
        );
        // The read-back uses the first tag (TypeScript checks its hash against the build's digest).
        assert.match(harness.named("app-build").inputs.create, /imagetools inspect --raw -- 123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/app:1\.0 /);
        assert.deepStrictEqual(await unwrap(result!.tags), ["123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1.0", "10.0.0.1:5000/app:1"]);

        const bad = await build("bad", { tags: ["10.0.0.1:5000/app:1", pulumi.output("Registry.Example.com/App:1")] });
        const message = bad.errors.map((e) => e.message).join("\n");
        assert.match(message, /MultiPlatformImage "bad" has invalid arguments:[\s\S]*tags\[1\]: "Registry\.Example\.com\/App:1"/);
    });

    it("marks secrets and registry passwords secret and keeps them out of the command", async () => {
        await build("app", {
            secrets: { TOKEN: "tok-123" },
            registries: [{ address: "10.0.0.1:5000", username: "u", password: "pw-456" }],
        });
        const cmd = harness.named("app-build");
        assert.deepStrictEqual(cmd.secretPaths, ["environment"]);
        assert.strictEqual(cmd.inputs.environment.PULUMI_BUILDX_SECRET_TOKEN, "tok-123");
        assert.strictEqual(cmd.inputs.environment.PULUMI_BUILDX_REGISTRY_0_PASSWORD, "pw-456");
        assert.ok(!cmd.inputs.create.includes("tok-123") && !cmd.inputs.create.includes("pw-456"));
        assert.deepStrictEqual(harness.leaks("tok-123"), []);
        assert.deepStrictEqual(harness.leaks("pw-456"), []);
    });

    it("waits for a Builder resource and builds on it by name", async () => {
        await runProgram(harness, () => {
            const builder = new FakeBuilder("b");
            return new MultiPlatformImage("app", { context: ctx, platforms: ["linux/amd64"], tags: ["r/app:1"], builder });
        });
        const cmd = harness.named("app-build");
        assert.match(cmd.inputs.create, /--builder fleet-x/);
        // dependsOn a component waits for its children: the builder's own commands.
        assert.ok(
            cmd.dependencies.includes("urn:pulumi:stack::project::buildx:index:Builder$command:local:Command::b-create"),
            JSON.stringify(cmd.dependencies),
        );
    });

    it("produces identical inputs for an unchanged context, and new triggers when a file changes", async () => {
        await build("one");
        await build("two");
        fs.writeFileSync(path.join(ctx, "ignored.txt"), "changes nothing");
        await build("three");
        fs.writeFileSync(path.join(ctx, "a.txt"), "b\n");
        await build("four");
        const [one, two, three, four] = ["one", "two", "three", "four"].map((n) => harness.named(`${n}-build`).inputs);
        assert.strictEqual(one.create, two.create);
        assert.deepStrictEqual(one.triggers, two.triggers);
        assert.deepStrictEqual(one.triggers, three.triggers, "an ignored file does not trigger a rebuild");
        assert.notDeepStrictEqual(one.triggers, four.triggers, "a changed file triggers a rebuild");
    });

    // The one policy for late values: an Output is checked once known, with the message a plain
    // value gets, and the build command is never registered with it.
    const lateCases: [string, Record<string, unknown>, Record<string, unknown>, RegExp][] = [
        [
            "registries[0].address",
            { registries: [{ address: pulumi.output("https://ghcr.io"), username: "u", password: "p" }] },
            { registries: [{ address: "https://ghcr.io", username: "u", password: "p" }] },
            /registries\[0\]\.address: "https:\/\/ghcr\.io" is not valid: expected a registry host\[:port\]/,
        ],
        ["builder", { builder: pulumi.output("My Builder") }, { builder: "My Builder" }, /builder: "My Builder" is not valid: expected a buildx builder name/],
        [
            "cacheTo[0].ref",
            { cacheTo: [{ type: "registry", ref: pulumi.output("not a ref") }] },
            { cacheTo: [{ type: "registry", ref: "not a ref" }] },
            /cacheTo\[0\]\.ref: "not a ref" is not valid: expected an image reference for the cache/,
        ],
        [
            "buildArgs.X",
            { buildArgs: { X: pulumi.output("a\0b") } },
            { buildArgs: { X: "a\0b" } },
            /buildArgs\.X: "a\\u0000b" is not valid: expected a string without a NUL byte/,
        ],
    ];
    for (const [property, late, plain, message] of lateCases) {
        it(`checks ${property} as an Output once known, with the plain value's message, and registers no build`, async () => {
            const plainRun = await build("plain", plain);
            assert.match(plainRun.errors.map((e) => e.message).join("\n"), message);
            const lateRun = await build("late", late);
            assert.match(lateRun.errors.map((e) => e.message).join("\n"), message);
            assert.match(lateRun.errors.map((e) => e.message).join("\n"), /MultiPlatformImage "late" has invalid arguments/);
            assert.deepStrictEqual(harness.ofType("command:local:Command"), []);
        });
    }

    for (const field of ["buildArgs", "labels", "annotations"]) {
        it(`refuses a secret Output in ${field}, pointing to \`secrets\``, async () => {
            const { errors } = await build("app", { [field]: { TOKEN: pulumi.secret("tok-789") } });
            const message = errors.map((e) => e.message).join("\n");
            assert.match(message, new RegExp(`${field}\\.TOKEN: is a secret, and it would be on a command line: give it in \`secrets\``));
            assert.ok(!message.includes("tok-789"), message);
            assert.deepStrictEqual(harness.ofType("command:local:Command"), []);
            assert.deepStrictEqual(harness.leaks("tok-789"), []);
        });
    }

    const secretNames: [string, Record<string, unknown>, string][] = [
        ["tags[0]", { tags: [pulumi.secret("10.0.0.1:5000/tok-789:1")] }, "tok-789"],
        ["builder", { builder: pulumi.secret("tok-789") }, "tok-789"],
        ["cacheFrom[0].ref", { cacheFrom: [{ type: "registry", ref: pulumi.secret("10.0.0.1:5000/tok-789:cache") }] }, "tok-789"],
        ["cacheTo[0].ref", { cacheTo: [{ type: "registry", ref: pulumi.secret("10.0.0.1:5000/tok-789:cache") }] }, "tok-789"],
    ];
    for (const [property, patch, needle] of secretNames) {
        it(`refuses a secret Output in ${property}: it would be on a command line and in the outputs`, async () => {
            const { errors } = await build("app", patch);
            const message = errors.map((e) => e.message).join("\n");
            assert.match(
                message,
                new RegExp(`${property.replace(/[[\].]/g, "\\$&")}: is a secret, and it would be on a command line: .*give it as a plain value`),
            );
            assert.ok(!message.includes(needle), message);
            assert.deepStrictEqual(harness.ofType("command:local:Command"), []);
        });
    }

    for (const field of ["target", "network"]) {
        it(`refuses an Output (secret or not) in ${field}, pointing to \`secrets\``, async () => {
            const { errors } = await build("app", { [field]: pulumi.secret("host") });
            assert.match(
                errors.map((e) => e.message).join("\n"),
                new RegExp(`${field}: is an Output: expected a plain string .*a secret belongs in \`secrets\``),
            );
            assert.deepStrictEqual(harness.ofType("command:local:Command"), []);
        });
    }

    it("makes { file } secret and ssh paths inside the program's directory relative, so another checkout path renders the same script", async () => {
        // Two checkouts of one project at different paths, each the program's directory when its image is declared.
        const other = fs.mkdtempSync(path.join(os.tmpdir(), "graph-other-"));
        fs.cpSync(ctx, other, { recursive: true });
        const cwd = process.cwd();
        try {
            await runProgram(harness, () =>
                [ctx, other].map((dir, i) => {
                    process.chdir(dir);
                    return new MultiPlatformImage(`checkout${i}`, {
                        context: dir,
                        platforms: ["linux/amd64"],
                        tags: ["10.0.0.1:5000/app:1"],
                        secrets: { ca: { file: path.join(dir, "certs", "ca.pem") }, aws: { file: "/etc/outside/credentials" } },
                        ssh: [{ id: "deploy", paths: [path.join(dir, "keys", "deploy"), "/run/agent.sock"] }],
                    });
                }),
            );
        } finally {
            process.chdir(cwd);
            fs.rmSync(other, { recursive: true, force: true });
        }
        const [one, two] = [harness.named("checkout0-build").inputs.create, harness.named("checkout1-build").inputs.create];
        assert.strictEqual(one, two, "the checkout path is in the script");
        assert.match(one, / --secret id=ca,src=certs\/ca\.pem --secret id=aws,src=\/etc\/outside\/credentials --ssh deploy=keys\/deploy,\/run\/agent\.sock /);
        assert.match(one, /if \[ ! -f certs\/ca\.pem \] \|\| \[ ! -r certs\/ca\.pem \]/);
    });

    it("throws at construction on bad input, before any command is registered", async () => {
        const { errors } = await build("bad", { platforms: ["linux/arm65"] });
        assert.strictEqual(errors.length, 1);
        assert.ok(pulumi.InputPropertiesError.isInstance(errors[0]), String(errors[0]));
        assert.deepStrictEqual(harness.ofType("command:local:Command"), []);
    });
});

describe("MultiPlatformImage named contexts in the resource graph", () => {
    let harness: Harness;
    let ctx: string;
    beforeEach(async () => {
        harness = new Harness({ run: false });
        // What a real build prints (pulumi-buildx/testing's answer), so that `ref` is known.
        harness.override("command:local:Command", (args, inputs) => ({ stdout: buildStdout(String(inputs.create), args.name) }));
        await harness.install();
        ctx = fs.mkdtempSync(path.join(os.tmpdir(), "graph-ctx-"));
        fs.writeFileSync(path.join(ctx, "Dockerfile"), "FROM base\nCOPY --from=shared a.txt /\n");
        fs.mkdirSync(path.join(ctx, "shared"));
        fs.writeFileSync(path.join(ctx, "shared", "a.txt"), "a\n");
    });
    afterEach(() => {
        harness.dispose();
        fs.rmSync(ctx, { recursive: true, force: true });
    });

    it("waits for an image used as a context, and counts a local context in the triggers", async () => {
        let base: MultiPlatformImage | undefined;
        const { errors } = await runProgram(harness, () => {
            base = new MultiPlatformImage("base", { context: ctx, platforms: ["linux/amd64", "linux/arm64"], tags: ["10.0.0.1:5000/base:1"] });
            return new MultiPlatformImage("app", {
                context: ctx,
                platforms: ["linux/amd64", "linux/arm64"],
                tags: ["10.0.0.1:5000/app:1"],
                buildContexts: { base, shared: path.join(ctx, "shared") },
                provenance: "max",
            });
        });
        assert.deepStrictEqual(
            errors.map((e) => e.message),
            [],
        );
        const cmd = harness.named("app-build");
        const baseBuild = "urn:pulumi:stack::project::buildx:index:MultiPlatformImage$command:local:Command::base-build";
        assert.ok(cmd.dependencies.includes(baseBuild), JSON.stringify(cmd.dependencies));
        assert.strictEqual(cmd.inputs.triggers.length, 3);
        assert.match(cmd.inputs.triggers[2], /^sha256:[0-9a-f]{64}$/);
        assert.match(cmd.inputs.create, /--provenance=mode=max/);
        assert.match(cmd.inputs.create, /--build-context shared=\S*shared /);
        assert.match(cmd.inputs.create, new RegExp(`--build-context base=docker-image://10\\.0\\.0\\.1:5000/base@${await unwrap(base!.digest)} `));
        assert.strictEqual(harness.named("base-build").inputs.triggers.length, 2, "a build without local named contexts keeps its two triggers");
    });

    it("refuses at construction an image context that will have no ref", async () => {
        const { errors } = await runProgram(harness, () => {
            const base = new MultiPlatformImage("base", { context: ctx, platforms: ["linux/amd64"], tags: ["10.0.0.1:5000/base:1"], push: false });
            return new MultiPlatformImage("app", { context: ctx, platforms: ["linux/amd64"], tags: ["10.0.0.1:5000/app:1"], buildContexts: { base } });
        });
        assert.match(errors.map((e) => e.message).join("\n"), /buildContexts\.base: is a MultiPlatformImage with no ref/);
    });
});
