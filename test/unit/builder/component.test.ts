/**
 * Builder wiring under mocks, with nothing run: the child command, where secrets travel, the
 * replacement options, and how a MultiPlatformImage uses the builder.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Builder } from "../../../src/builder/component";
import { BuilderArgs } from "../../../src/builder/args";
import { MultiPlatformImage } from "../../../src/image/component";
import { Harness, runProgram, unwrap } from "../../harness";
import { onRegister } from "../../harness/sdk-internals";
import { GUARDED_BASH } from "../../../src/guard";

const KEY = "-----BEGIN PRIVATE KEY-----\nUNIT-TEST-KEY-0123456789\n-----END PRIVATE KEY-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nUNIT-TEST-CERT\n-----END CERTIFICATE-----\n";
const CA = "-----BEGIN CERTIFICATE-----\nUNIT-TEST-CA\n-----END CERTIFICATE-----\n";

const remoteArgs = (): BuilderArgs => ({
    driver: "remote",
    nodes: [
        { name: "amd", endpoint: "tcp://10.0.0.1:1234", platforms: ["linux/amd64"], tls: { ca: CA, cert: CERT, key: KEY } },
        {
            name: "arm",
            endpoint: pulumi.output("tcp://10.0.0.2:1234"),
            platforms: ["linux/arm64"],
            tls: { ca: CA, cert: pulumi.output(CERT), key: pulumi.output(KEY) },
        },
    ],
});

describe("Builder component (mocks, nothing runs)", () => {
    let harness: Harness;
    const options = new Map<string, { replaceOnChanges: string[]; deleteBeforeReplace: boolean }>();
    beforeEach(async () => {
        harness = new Harness({ run: false });
        await harness.install("proj", "dev");
        onRegister((req) => options.set(req.getName(), { replaceOnChanges: req.getReplaceonchangesList(), deleteBeforeReplace: req.getDeletebeforereplace() }));
    });
    afterEach(() => harness.dispose());

    it("creates one local command under the component, with TLS contents only in a secret environment", async () => {
        const { result, errors } = await runProgram(harness, () => new Builder("fleet", remoteArgs()));
        assert.deepStrictEqual(
            errors.map((e) => e.message),
            [],
        );
        const component = harness.named("fleet");
        assert.strictEqual(component.type, "buildx:index:Builder");
        const cmd = harness.named("fleet-instance");
        assert.strictEqual(cmd.type, "command:local:Command");
        assert.strictEqual(cmd.parent, "urn:pulumi:dev::proj::buildx:index:Builder::fleet");
        assert.deepStrictEqual(cmd.secretPaths, ["environment"]);
        assert.deepStrictEqual(Object.keys(cmd.inputs.environment).sort(), [
            "PULUMI_BUILDX_NODE_0_TLS_CA",
            "PULUMI_BUILDX_NODE_0_TLS_CERT",
            "PULUMI_BUILDX_NODE_0_TLS_KEY",
            "PULUMI_BUILDX_NODE_1_TLS_CA",
            "PULUMI_BUILDX_NODE_1_TLS_CERT",
            "PULUMI_BUILDX_NODE_1_TLS_KEY",
        ]);
        assert.strictEqual(cmd.inputs.environment.PULUMI_BUILDX_NODE_1_TLS_KEY, KEY);
        assert.deepStrictEqual(harness.leaks("UNIT-TEST-KEY"), [], "the key is only in the secret environment");
        assert.ok(!String(cmd.inputs.create).includes("BEGIN"));
        assert.match(cmd.inputs.create, /--name proj-dev-fleet --driver remote --node arm --platform linux\/arm64 .* tcp:\/\/10.0.0.2:1234/);
        assert.match(cmd.inputs.delete, /^name=proj-dev-fleet$/m);
        assert.deepStrictEqual(cmd.inputs.interpreter, GUARDED_BASH);
        assert.strictEqual(await unwrap(result!.name), "proj-dev-fleet");
        assert.strictEqual(await unwrap(result!.driver), "remote");
        assert.deepStrictEqual(await unwrap(result!.nodes), []);
    });

    it("replaces the instance on any change, deleting the old one first (same name)", async () => {
        await runProgram(harness, () => new Builder("fleet", remoteArgs()));
        const got = options.get("fleet-instance")!;
        assert.ok(got.replaceOnChanges.includes("*"), JSON.stringify(got));
        assert.strictEqual(got.deleteBeforeReplace, true);
    });

    it("passes no environment when no node has TLS", async () => {
        await runProgram(harness, () => new Builder("local", { name: "solo", nodes: [{ name: "here" }] }));
        const cmd = harness.named("local-instance");
        assert.strictEqual(cmd.inputs.environment, undefined);
        assert.deepStrictEqual(cmd.secretPaths, []);
        assert.match(cmd.inputs.create, /docker buildx create --name solo --driver docker-container --node here$/m);
    });

    it("fails at construction on bad input, before any resource is registered", async () => {
        const { errors } = await runProgram(harness, () => new Builder("bad", { driver: "remote", nodes: [{ name: "a", endpoint: "ssh://h" }] }));
        assert.strictEqual(errors.length, 1);
        assert.ok(pulumi.InputPropertiesError.isInstance(errors[0]), String(errors[0]));
        assert.match(errors[0].message, /nodes\[0\].endpoint/);
        assert.deepStrictEqual(harness.ofType("command:local:Command"), []);
    });

    it("checks an endpoint Output once known, with the plain value's message, and never registers a create that could run", async () => {
        const { errors } = await runProgram(
            harness,
            () =>
                new Builder("late", {
                    driver: "remote",
                    nodes: [{ name: "ec2", endpoint: pulumi.output("ssh://root@ec2"), tls: { ca: CA, cert: CERT, key: KEY } }],
                }),
        );
        const message = errors.map((e) => e.message).join("\n");
        assert.match(message, /Builder "late" has invalid arguments:\n {2}- nodes\[0\]\.endpoint: "ssh:\/\/root@ec2" does not fit driver "remote"/);
        assert.deepStrictEqual(harness.ofType("command:local:Command"), []);
    });

    it("checks TLS PEMs that are Outputs once known, without quoting them", async () => {
        const { errors } = await runProgram(
            harness,
            () =>
                new Builder("pem", {
                    driver: "remote",
                    nodes: [{ name: "a", endpoint: "tcp://10.0.0.1:1234", tls: { ca: CA, cert: CERT, key: pulumi.secret("not a pem") } }],
                }),
        );
        const message = errors.map((e) => e.message).join("\n");
        assert.match(message, /nodes\[0\]\.tls\.key: is not PEM contents \(no "-----BEGIN" line\)/);
        assert.ok(!message.includes("not a pem"), message);
        assert.deepStrictEqual(harness.ofType("command:local:Command"), []);
    });

    it("is used by MultiPlatformImage as --builder NAME and waited for", async () => {
        const ctx = fs.mkdtempSync(path.join(os.tmpdir(), "builder-unit-"));
        fs.writeFileSync(path.join(ctx, "Dockerfile"), "FROM scratch\n");
        try {
            // (Nothing runs, so the image's own read-back of the build result fails; only its inputs matter here.)
            const { errors } = await runProgram(harness, () => {
                const b = new Builder("fleet", remoteArgs());
                return new MultiPlatformImage("app", { builder: b, context: ctx, platforms: ["linux/amd64", "linux/arm64"], tags: ["10.0.0.9:5000/app:1"] });
            });
            assert.deepStrictEqual(
                errors.filter((e) => !/build printed no result line/.test(e.message)).map((e) => e.message),
                [],
            );
            const build = harness.named("app-build");
            assert.match(build.inputs.create, /docker buildx build --builder proj-dev-fleet --platform linux\/amd64,linux\/arm64/);
            assert.ok(
                build.dependencies.some((d) => d.endsWith("::fleet") || d.endsWith("::fleet-instance")),
                `the build waits for the builder: ${JSON.stringify(build.dependencies)}`,
            );
        } finally {
            fs.rmSync(ctx, { recursive: true, force: true });
        }
    });
});
