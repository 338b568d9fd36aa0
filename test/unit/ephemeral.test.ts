/**
 * withEphemeralBuilder's lifecycle with a fake stack (the Pulumi CLI is not run): destroy always
 * runs, and the error reported is the first one that happened.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    BUILDER_NAME_OUTPUT,
    EphemeralBuilderCleanupError,
    EphemeralBuilderOptions,
    EphemeralStackSpec,
    PULUMI_CLI_MISSING,
    requirePulumiCli,
    withEphemeralBuilder,
} from "../../src/ephemeral";
import { Harness, runProgram } from "../harness";

interface FakeBehaviour {
    upFails?: Error;
    destroyFails?: Error;
    removeFails?: Error;
    outputs?: Record<string, unknown>;
}

/** A fake stack factory that records every operation in order. */
function fake(behaviour: FakeBehaviour = {}) {
    const calls: string[] = [];
    const specs: EphemeralStackSpec[] = [];
    const cleanupReports: { error: unknown; stackName: string }[] = [];
    const options = (extra: Partial<EphemeralBuilderOptions> = {}): EphemeralBuilderOptions => ({
        builder: { nodes: [{ name: "local" }] },
        stackName: "eph-1",
        onCleanupError: (error, stackName) => cleanupReports.push({ error, stackName }),
        stackFactory: async (spec) => {
            calls.push(`create ${spec.projectName}/${spec.stackName}`);
            specs.push(spec);
            return {
                up: async () => {
                    calls.push("up");
                    if (behaviour.upFails) throw behaviour.upFails;
                    return behaviour.outputs ?? { [BUILDER_NAME_OUTPUT]: "buildx-ephemeral-eph-1-builder" };
                },
                destroy: async () => {
                    calls.push("destroy");
                    if (behaviour.destroyFails) throw behaviour.destroyFails;
                },
                remove: async () => {
                    calls.push("remove");
                    if (behaviour.removeFails) throw behaviour.removeFails;
                },
            };
        },
        ...extra,
    });
    return { calls, specs, cleanupReports, options };
}

describe("withEphemeralBuilder (fake stack)", () => {
    it("returns fn's result, having called fn with the builder name, then destroys and removes the stack", async () => {
        const f = fake();
        const result = await withEphemeralBuilder(f.options(), async (name) => {
            f.calls.push(`fn ${name}`);
            return { digest: "sha256:abc" };
        });
        assert.deepStrictEqual(result, { digest: "sha256:abc" });
        assert.deepStrictEqual(f.calls, ["create buildx-ephemeral/eph-1", "up", "fn buildx-ephemeral-eph-1-builder", "destroy", "remove"]);
        assert.deepStrictEqual(f.cleanupReports, []);
    });

    it("keeps the stack when removeStack is false", async () => {
        const f = fake();
        await withEphemeralBuilder(f.options({ removeStack: false }), async () => 1);
        assert.deepStrictEqual(f.calls, ["create buildx-ephemeral/eph-1", "up", "destroy"]);
    });

    it("destroys the stack when fn fails, and throws fn's error itself", async () => {
        const f = fake();
        const buildError = new Error("build failed: exit code 1");
        await assert.rejects(
            withEphemeralBuilder(f.options(), async () => {
                throw buildError;
            }),
            (e: unknown) => e === buildError,
        );
        assert.deepStrictEqual(f.calls, ["create buildx-ephemeral/eph-1", "up", "destroy", "remove"]);
    });

    it("throws fn's error, not destroy's, when both fail, and reports the destroy error", async () => {
        const f = fake({ destroyFails: new Error("destroy: builder busy") });
        const buildError = new Error("build failed");
        await assert.rejects(
            withEphemeralBuilder(f.options(), async () => {
                throw buildError;
            }),
            (e: unknown) => e === buildError,
        );
        assert.deepStrictEqual(f.calls, ["create buildx-ephemeral/eph-1", "up", "destroy"], "no stack rm after a failed destroy");
        assert.strictEqual(f.cleanupReports.length, 1);
        assert.match(String((f.cleanupReports[0].error as Error).message), /builder busy/);
        assert.strictEqual(f.cleanupReports[0].stackName, "eph-1");
    });

    it("destroys the stack when up fails, does not call fn, and throws up's error", async () => {
        const f = fake({ upFails: new Error("up: node unreachable") });
        let called = false;
        await assert.rejects(
            withEphemeralBuilder(f.options(), async () => {
                called = true;
            }),
            /node unreachable/,
        );
        assert.strictEqual(called, false);
        assert.deepStrictEqual(f.calls, ["create buildx-ephemeral/eph-1", "up", "destroy", "remove"]);
    });

    it("throws up's error when up and destroy both fail, and reports the destroy error", async () => {
        const f = fake({ upFails: new Error("up failed"), destroyFails: new Error("destroy failed") });
        await assert.rejects(
            withEphemeralBuilder(f.options(), async () => 1),
            /^Error: up failed$/,
        );
        assert.match(String((f.cleanupReports[0]?.error as Error)?.message), /destroy failed/);
    });

    it("reports a destroy failure after a successful fn as EphemeralBuilderCleanupError, keeping the result", async () => {
        const destroyError = new Error("destroy: timeout");
        const f = fake({ destroyFails: destroyError });
        await assert.rejects(
            withEphemeralBuilder(f.options(), async () => "digests"),
            (e: unknown) => {
                assert.ok(e instanceof EphemeralBuilderCleanupError);
                assert.strictEqual(e.cause, destroyError);
                assert.strictEqual(e.result, "digests");
                assert.strictEqual(e.stackName, "eph-1");
                assert.match(e.message, /eph-1.*destroy: timeout.*pulumi destroy --stack eph-1/);
                return true;
            },
        );
        assert.deepStrictEqual(f.cleanupReports, [], "the error is thrown, not only reported");
    });

    it("reports a stack rm failure after a successful fn the same way", async () => {
        const f = fake({ removeFails: new Error("stack rm: locked") });
        await assert.rejects(
            withEphemeralBuilder(f.options(), async () => 1),
            (e: unknown) => e instanceof EphemeralBuilderCleanupError && /locked/.test(e.message),
        );
    });

    it("fails (and still destroys) when the stack has no builder name output", async () => {
        const f = fake({ outputs: {} });
        await assert.rejects(
            withEphemeralBuilder(f.options(), async () => 1),
            /no "builderName" output/,
        );
        assert.ok(f.calls.includes("destroy"));
    });

    it("gives each call its own stack name by default", async () => {
        const a = fake();
        const b = fake();
        await withEphemeralBuilder(a.options({ stackName: undefined }), async () => 1);
        await withEphemeralBuilder(b.options({ stackName: undefined }), async () => 1);
        assert.match(a.specs[0].stackName, /^ephemeral-[a-z0-9]+-[a-z0-9]+$/);
        assert.notStrictEqual(a.specs[0].stackName, b.specs[0].stackName);
    });

    describe("the inline program (mocks)", () => {
        let harness: Harness;
        beforeEach(async () => {
            harness = new Harness({ run: false });
            await harness.install("buildx-ephemeral", "eph-1");
        });
        afterEach(() => harness.dispose());

        it("declares one Builder from the options and exports its name", async () => {
            const f = fake();
            await withEphemeralBuilder(f.options({ resourceName: "fleet", builder: { name: "ci-fleet", nodes: [{ name: "n1" }] } }), async () => 1);
            const { result, errors } = await runProgram(harness, f.specs[0].program);
            assert.deepStrictEqual(errors, []);
            assert.deepStrictEqual(Object.keys(result as object), [BUILDER_NAME_OUTPUT]);
            const builders = harness.ofType("buildx:index:Builder");
            assert.deepStrictEqual(
                builders.map((r) => r.name),
                ["fleet"],
            );
            assert.match(String(harness.named("fleet-instance").inputs.create), /ci-fleet/);
        });
    });

    describe("without a Pulumi CLI", () => {
        let dir: string;
        let savedPath: string | undefined;
        beforeEach(() => {
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "no-pulumi-"));
            savedPath = process.env.PATH;
        });
        afterEach(() => {
            process.env.PATH = savedPath;
            fs.rmSync(dir, { recursive: true, force: true });
        });

        it("fails before anything runs, naming what to install, instead of `spawn pulumi ENOENT`", async () => {
            process.env.PATH = dir;
            let called = false;
            await assert.rejects(
                withEphemeralBuilder({ builder: { nodes: [{ name: "local" }] } }, async () => (called = true)),
                (err: Error) => err.message === PULUMI_CLI_MISSING && /Pulumi CLI/.test(err.message) && /get\.pulumi\.com/.test(err.message),
            );
            assert.strictEqual(called, false);
        });

        it("finds an executable `pulumi` in any PATH directory, and only an executable one", () => {
            const cli = path.join(dir, "pulumi");
            fs.writeFileSync(cli, "#!/bin/sh\n", { mode: 0o644 });
            assert.throws(() => requirePulumiCli(`/nonexistent${path.delimiter}${dir}`), { message: PULUMI_CLI_MISSING });
            fs.chmodSync(cli, 0o755);
            assert.doesNotThrow(() => requirePulumiCli(`/nonexistent${path.delimiter}${dir}`));
        });
    });
});
