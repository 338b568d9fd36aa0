/**
 * ec2BuilderProgram: its plain arguments are refused at once (before any stack exists), and the
 * program it returns declares one Ec2BuilderNode per platform and one Builder with all of them,
 * with the driver of the transport (the resource graph under mocks; nothing runs). End to end:
 * test/integration/ec2-program.test.ts.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { Builder } from "../../../../src/builder/component";
import { ec2BuilderProgram, Ec2BuilderProgramArgs, EPHEMERAL_TTL_MINUTES } from "../../../../src/nodes/ec2/program";
import { answerAwsLookups, answerEc2NodeStandIns, Harness, runProgram, unwrap } from "../../../harness";

const PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHr1bK0e3VbYw0aJ9sQwE2m6c1n1g2hX7s9T6oZ0a9fB me@laptop";

const b64 = (text: string) => Buffer.from(text).toString("base64");
const READY_OUT = `pulumi-buildx-ready {"version":"${b64("v0.16.0")}","sshHostKey":"${b64("ssh-ed25519 AAAAHOSTKEY")}","expiresAt":"${b64("2026-12-03 11:00:00 UTC")}"}`;

const base = (patch: Partial<Ec2BuilderProgramArgs> = {}): Ec2BuilderProgramArgs => ({
    platforms: ["linux/amd64", "arm64"],
    allowedCidrs: ["203.0.113.7/32"],
    sshPublicKey: PUBLIC_KEY,
    ...patch,
});

describe("ec2BuilderProgram", () => {
    it("refuses bad plain arguments at once, listing every problem with its path and value", () => {
        assert.throws(
            () =>
                ec2BuilderProgram(
                    base({
                        platforms: ["linux/amd64", "linux/arm/v7", "x86_64"],
                        transport: "ftp" as never,
                        instanceTypes: { "linux/amd64": "c7g.large", "linux/s390x": "m7i.large" },
                        ttlMinutes: 1.5,
                        builderName: "Fleet",
                    }),
                ),
            (err: Error) => {
                const m = err.message;
                assert.match(m, /^ec2BuilderProgram "program" has invalid arguments:/);
                assert.match(m, /platforms\[1\]: "linux\/arm\/v7" is not valid: expected "linux\/amd64" or "linux\/arm64"/);
                assert.match(m, /platforms\[2\]: "x86_64" is not valid: expected each platform once: it is the same as platforms\[0\]/);
                assert.match(m, /transport: "ftp"/);
                assert.match(m, /instanceTypes\.linux\/amd64: "c7g\.large" is not valid: expected an instance type of amd64/);
                assert.match(m, /instanceTypes\.linux\/s390x: "linux\/s390x" is not valid: expected one of the platforms/);
                assert.match(m, /ttlMinutes: 1\.5/);
                assert.match(m, /builderName: "Fleet"/);
                return true;
            },
        );
        assert.throws(() => ec2BuilderProgram(base({ platforms: [] })), /platforms: \[\] is not valid: expected a non-empty list/);
        // The nodes' own rules, before any stack exists.
        assert.throws(
            () => ec2BuilderProgram(base({ subnetId: "subnet-1" })),
            /^Error: ec2BuilderProgram "program" has invalid arguments:\n {2}- subnetId: "subnet-1"/,
        );
        // In the same error as the program's own, each once, named as the program's arguments.
        assert.throws(
            () =>
                ec2BuilderProgram(
                    base({ platforms: ["linux/arm64x"], allowedCidrs: ["0.0.0.0/0"], sshPublicKey: "nope", node: { volumeSizeGiB: -1 } as never }),
                ),
            (err: Error) => {
                const lines = err.message.split("\n");
                assert.match(lines[0], /^ec2BuilderProgram "program" has invalid arguments:/);
                for (const property of ["platforms[0]", "allowedCidrs[0]", "sshPublicKey", "node.volumeSizeGiB"]) {
                    assert.strictEqual(lines.filter((l) => l.startsWith(`  - ${property}: `)).length, 1, `${property} once in:\n${err.message}`);
                }
                assert.ok(!/Ec2BuilderNode/.test(err.message), err.message);
                return true;
            },
        );
        assert.throws(() => ec2BuilderProgram(base({ allowedCidrs: ["0.0.0.0/0"] })), /allowedCidrs\[0\]: "0\.0\.0\.0\/0"/);
        // ...unless a value they check is an Output: then at construction, inside the stack.
        assert.doesNotThrow(() => ec2BuilderProgram(base({ allowedCidrs: [pulumi.output("0.0.0.0/0")] })));
    });

    describe("the program (mocks, nothing runs)", () => {
        let harness: Harness;
        beforeEach(async () => {
            harness = new Harness({ run: false });
            await harness.install("buildx-ephemeral", "ephemeral-20261203t091500z-abc123");
            answerAwsLookups(harness, []);
            answerEc2NodeStandIns(harness, READY_OUT);
        });
        afterEach(() => harness.dispose());

        for (const [transport, driver] of [
            [undefined, "remote"],
            ["ssh", "docker-container"],
        ] as const) {
            it(`transport ${transport ?? "default (tls)"}: one node per platform, one ${driver} Builder with both`, async () => {
                const program = ec2BuilderProgram(
                    base({
                        transport,
                        instanceTypes: { arm64: "c7g.xlarge" },
                        spot: true,
                        subnetId: "subnet-0123456789abcdef0",
                        node: { volumeSizeGiB: 40, tags: { ci: "job-1" } },
                    }),
                );
                const { result, errors } = await runProgram(harness, program);
                assert.deepStrictEqual(
                    errors.map((e) => e.message),
                    [],
                );
                assert.ok(result instanceof Builder);
                assert.deepStrictEqual(
                    harness.ofType("buildx:index:Ec2BuilderNode").map((r) => r.name),
                    ["amd64", "arm64"],
                );
                assert.deepStrictEqual(
                    harness.ofType("buildx:index:Builder").map((r) => r.name),
                    ["builder"],
                );
                for (const [name, type] of [
                    ["amd64", "c7i.large"],
                    ["arm64", "c7g.xlarge"],
                ]) {
                    const instance = harness.named(`${name}-instance`);
                    assert.strictEqual(instance.inputs.instanceType, type);
                    assert.strictEqual(instance.inputs.subnetId, "subnet-0123456789abcdef0");
                    assert.strictEqual(instance.inputs.tags.ci, "job-1");
                    assert.strictEqual(instance.inputs.rootBlockDevice.volumeSize, 40);
                    assert.ok(instance.inputs.instanceMarketOptions, `${name} is not a spot instance`);
                    assert.match(instance.inputs.userData, new RegExp(`shutdown -h \\+?${EPHEMERAL_TTL_MINUTES}|${EPHEMERAL_TTL_MINUTES} min`));
                }
                const create = String(harness.named("builder-instance").inputs.create);
                assert.match(create, new RegExp(`--driver ${driver}`));
                assert.match(create, /--node amd64 --platform linux\/amd64/);
                assert.match(create, /--node arm64 --platform linux\/arm64/);
                assert.match(await unwrap(result!.name), /^buildx-ephemeral-/);
            });
        }
    });
});
