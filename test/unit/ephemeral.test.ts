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
    withEphemeralBuilder,
} from "../../src/ephemeral";
import { requirePulumiCli } from "../../src/pulumi-cli";
import * as pulumi from "@pulumi/pulumi";
import { Builder } from "../../src/builder/component";
import { cleanupEphemeralBuilders, EphemeralStackStore, isLockedError, ListedStack } from "../../src/ephemeral-sweep";
import { ephemeralStackCreatedAt, ephemeralStackName } from "../../src/ephemeral-names";
import { Harness, runProgram, unwrap } from "../harness";

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

    it("refuses workspaceOptions.workDir and projectSettings before any stack exists, naming envVars.PULUMI_BACKEND_URL", async () => {
        for (const workspaceOptions of [{ workDir: os.tmpdir() }, { projectSettings: { name: "my-app", runtime: "nodejs" as const } }]) {
            const f = fake();
            let ran = false;
            await assert.rejects(
                withEphemeralBuilder(f.options({ workspaceOptions }), async () => (ran = true)),
                /^Error: withEphemeralBuilder: workspaceOptions\.(workDir|projectSettings) cannot be used: .*project \(projectName, default "buildx-ephemeral"\).*envVars\.PULUMI_BACKEND_URL/,
            );
            assert.deepStrictEqual(f.calls, []);
            assert.strictEqual(ran, false);
        }
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
        assert.match(a.specs[0].stackName, /^ephemeral-\d{8}t\d{6}z-[a-z0-9]+$/);
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
            assert.throws(() => requirePulumiCli("withEphemeralBuilder", `/nonexistent${path.delimiter}${dir}`), { message: PULUMI_CLI_MISSING });
            fs.chmodSync(cli, 0o755);
            assert.doesNotThrow(() => requirePulumiCli("withEphemeralBuilder", `/nonexistent${path.delimiter}${dir}`));
        });
    });
});

describe("withEphemeralBuilder({ program })", () => {
    let harness: Harness;
    beforeEach(async () => {
        harness = new Harness({ run: false });
        await harness.install("buildx-ephemeral", "eph-1");
    });
    afterEach(() => harness.dispose());

    const capture = async (options: Partial<EphemeralBuilderOptions>) => {
        const specs: EphemeralStackSpec[] = [];
        const calls: string[] = [];
        const result = await withEphemeralBuilder(
            {
                stackName: "eph-1",
                ...options,
                stackFactory: async (spec) => {
                    specs.push(spec);
                    return {
                        up: async () => ({ [BUILDER_NAME_OUTPUT]: "from-program" }),
                        destroy: async () => void calls.push("destroy"),
                        remove: async () => void calls.push("remove"),
                    };
                },
            },
            async (name) => name,
        );
        return { result, spec: specs[0], calls };
    };

    it("runs the program inside the stack: everything it declares is in the stack, and its Builder's name is the output", async () => {
        const { result, spec, calls } = await capture({
            program: async () => {
                // Something the builder needs, declared by the program (as an Ec2BuilderNode would be).
                new Builder("helper", { name: "helper-x", nodes: [{ name: "a" }] });
                return new Builder("fleet", { name: "fleet-x", nodes: [{ name: "n1" }] });
            },
        });
        assert.strictEqual(result, "from-program");
        assert.deepStrictEqual(calls, ["destroy", "remove"]);
        const { result: outputs, errors } = await runProgram(harness, spec.program);
        assert.deepStrictEqual(errors, []);
        assert.strictEqual(await unwrap((outputs as Record<string, pulumi.Output<string>>)[BUILDER_NAME_OUTPUT]), "fleet-x");
        assert.deepStrictEqual(
            harness.ofType("buildx:index:Builder").map((r) => r.name),
            ["helper", "fleet"],
        );
    });

    it("fails the stack's program when the program returns something that is not a Builder", async () => {
        const { spec } = await capture({ program: (() => ({ name: "x" })) as unknown as EphemeralBuilderOptions["program"] });
        const { errors } = await runProgram(harness, spec.program);
        assert.match(errors.map((e) => e.message).join("\n"), /program returned an object \(name\), not a Builder/);
    });

    for (const [what, options, message] of [
        ["neither builder nor program", {}, /exactly one of `builder`.*and `program`.*got neither/],
        ["both", { builder: { nodes: [{ name: "local" }] }, program: () => undefined }, /exactly one of `builder`.*got both/],
        ["a program that is not a function", { program: "fleet" }, /`program` is string: expected a function/],
    ] as const) {
        it(`refuses ${what} before anything runs`, async () => {
            let created = false;
            await assert.rejects(
                withEphemeralBuilder(
                    {
                        ...(options as Partial<EphemeralBuilderOptions>),
                        stackFactory: async () => {
                            created = true;
                            throw new Error("not reached");
                        },
                    } as EphemeralBuilderOptions,
                    async () => 1,
                ),
                message,
            );
            assert.strictEqual(created, false);
        });
    }
});

describe("ephemeral stack names", () => {
    it("carry the creation time, to the second, and a random suffix", () => {
        const at = new Date("2026-12-03T09:15:07.123Z");
        const name = ephemeralStackName(at, "k3x9qa");
        assert.strictEqual(name, "ephemeral-20261203t091507z-k3x9qa");
        assert.deepStrictEqual(ephemeralStackCreatedAt(name), new Date("2026-12-03T09:15:07Z"));
        assert.deepStrictEqual(ephemeralStackCreatedAt(`org/buildx-ephemeral/${name}`), new Date("2026-12-03T09:15:07Z"));
    });

    it("are not confused with other stacks", () => {
        for (const other of ["dev", "ephemeral-", "ephemeral-lz8k2-abc123", "my-ephemeral-20261203t091507z-abc", "ephemeral-20261303t091507z-abc"]) {
            assert.strictEqual(ephemeralStackCreatedAt(other), undefined, other);
        }
    });
});

describe("cleanupEphemeralBuilders (fake store)", () => {
    const now = new Date("2026-12-03T12:00:00Z");
    const at = (minutesAgo: number, suffix: string) => ephemeralStackName(new Date(now.getTime() - minutesAgo * 60_000), suffix);

    function store(listed: ListedStack[], fail: Record<string, Error> = {}) {
        const calls: string[] = [];
        const s: EphemeralStackStore = {
            list: async () => listed,
            destroy: async (name) => {
                calls.push(`destroy ${name}`);
                if (fail[name]) throw fail[name];
            },
            remove: async (name) => void calls.push(`remove ${name}`),
        };
        return { s, calls };
    }

    it("destroys and removes ephemeral stacks older than the limit, and only those", async () => {
        const old = at(90, "old111");
        const young = at(10, "young1");
        const { s, calls } = store([
            { name: old, updateInProgress: false },
            { name: young, updateInProgress: false },
            { name: "production", updateInProgress: false },
        ]);
        const report = await cleanupEphemeralBuilders({ olderThanMinutes: 60, now, store: s });
        assert.deepStrictEqual(calls, [`destroy ${old}`, `remove ${old}`]);
        assert.deepStrictEqual(report.removed, [{ stackName: old, createdAt: new Date(now.getTime() - 90 * 60_000) }]);
        assert.deepStrictEqual(report.skipped, []);
        assert.deepStrictEqual(report.failed, []);
    });

    it("skips stacks with an update in progress or locked, reports failures, and goes on with the rest", async () => {
        const busy = at(120, "busy11");
        const locked = at(120, "lock11");
        const broken = at(120, "brok11");
        const fine = at(120, "fine11");
        const { s, calls } = store(
            [
                { name: busy, updateInProgress: true },
                { name: locked, updateInProgress: false },
                { name: broken, updateInProgress: false },
                { name: fine, updateInProgress: false },
            ],
            { [locked]: new Error("the stack is currently locked by 1 lock(s)"), [broken]: new Error("provider exploded") },
        );
        const report = await cleanupEphemeralBuilders({ olderThanMinutes: 0, now, store: s });
        assert.deepStrictEqual(calls, [`destroy ${locked}`, `destroy ${broken}`, `destroy ${fine}`, `remove ${fine}`]);
        assert.deepStrictEqual(
            report.skipped.map((x) => [x.stackName, x.reason.split(":")[0]]),
            [
                [busy, "an update is in progress"],
                [locked, "locked"],
            ],
        );
        assert.deepStrictEqual(
            report.failed.map((x) => [x.stackName, (x.error as Error).message]),
            [[broken, "provider exploded"]],
        );
        assert.deepStrictEqual(
            report.removed.map((x) => x.stackName),
            [fine],
        );
    });

    it("tells a stack another update holds from other failures by the engine's own words", () => {
        for (const locked of [
            "the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.",
            "[409] Conflict: Another update is currently in progress.",
        ]) {
            assert.strictEqual(isLockedError(locked), true, locked);
        }
        for (const other of ["provider exploded", "deleting security group: api error DependencyViolation: 409 Conflict", "ConflictException: instance busy"]) {
            assert.strictEqual(isLockedError(other), false, other);
        }
    });

    it("a locked stack's reason says how to break a lock that a killed job left", async () => {
        const locked = at(120, "lock22");
        const { s } = store([{ name: locked, updateInProgress: false }], { [locked]: new Error("the stack is currently locked by 1 lock(s)") });
        const report = await cleanupEphemeralBuilders({ olderThanMinutes: 0, now, store: s });
        assert.match(report.skipped[0]?.reason ?? "", new RegExp(`pulumi cancel --stack ${locked}`));
    });

    it("refuses workspaceOptions.workDir and projectSettings, and leaves that directory's Pulumi.yaml as it was", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sweep-workdir-"));
        try {
            const yaml = "name: my-app\nruntime: nodejs\ndescription: mine\n";
            fs.writeFileSync(path.join(dir, "Pulumi.yaml"), yaml);
            await assert.rejects(
                cleanupEphemeralBuilders({ olderThanMinutes: 0, workspaceOptions: { workDir: dir } }),
                /^Error: cleanupEphemeralBuilders: workspaceOptions\.workDir cannot be used: .*envVars\.PULUMI_BACKEND_URL/,
            );
            assert.strictEqual(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8"), yaml);
            const { s, calls } = store([{ name: at(500, "aaaaab"), updateInProgress: false }]);
            await assert.rejects(
                cleanupEphemeralBuilders({ olderThanMinutes: 0, store: s, workspaceOptions: { projectSettings: { name: "x", runtime: "nodejs" } } }),
                /workspaceOptions\.projectSettings cannot be used/,
            );
            assert.deepStrictEqual(calls, []);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("refuses a bad olderThanMinutes before touching anything", async () => {
        const { s, calls } = store([{ name: at(500, "aaaaaa"), updateInProgress: false }]);
        for (const bad of [-1, NaN, "60" as unknown as number, undefined as unknown as number]) {
            await assert.rejects(
                cleanupEphemeralBuilders({ olderThanMinutes: bad, store: s }),
                /olderThanMinutes .* is not valid: expected a number of minutes/,
            );
        }
        assert.deepStrictEqual(calls, []);
    });

    it("without a Pulumi CLI fails at once, naming what to install", async () => {
        const saved = process.env.PATH;
        process.env.PATH = "/nonexistent";
        try {
            await assert.rejects(cleanupEphemeralBuilders({ olderThanMinutes: 0 }), /^Error: cleanupEphemeralBuilders needs the Pulumi CLI.*get\.pulumi\.com/);
        } finally {
            process.env.PATH = saved;
        }
    });
});
