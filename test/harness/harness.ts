/**
 * Test harness: runs Pulumi programs under `pulumi.runtime.setMocks` with honest test doubles.
 *
 * What it does:
 * - `command:local:Command` really runs `create` (interpreter, `dir`, `environment`, `stdin`) and
 *   returns the real `stdout`/`stderr`; a non-zero exit fails the resource with the command's
 *   output, as the provider does.
 * - `command:remote:Command` really runs `create` over SSH to `connection.host` (tests start
 *   `sshd` inside network-namespace hosts; see scripts/test-env.sh).
 * - Every resource is recorded: type, name, parent URN, dependencies, inputs with secrets
 *   unwrapped, and the paths where secrets were, so tests can assert on the graph.
 * - `destroy()` runs the recorded `delete` commands in reverse registration order (a resource
 *   registers only after everything it depends on, so this is reverse dependency order).
 * - Other providers (aws, docker, tls, …) echo their inputs plus a plausible id; `override(type,
 *   fn)` lets a test give a resource real-looking outputs (e.g. map an EC2 instance to a test host).
 *
 * What it does NOT cover (the real engine does these; see issue 7): previews, diffs and
 * replacement decisions, `update` commands, refresh, state files, delete-before-replace,
 * secrets encryption in state, provider plugin versions, and ordering beyond registration order.
 */
import * as pulumi from "@pulumi/pulumi";
import { CommandFailed, runLocal, runRemote, SshConnection } from "./commands";
import { stringLeaves, unwrapSecrets } from "./secrets";

import { onRegister, waitForRPCs } from "./sdk-internals";

export interface RecordedResource {
    type: string;
    name: string;
    custom: boolean;
    /** URN of the parent resource, if any. */
    parent?: string;
    /** URNs of explicit and implicit dependencies. */
    dependencies: string[];
    /** Inputs with secret wrappers removed. */
    inputs: Record<string, any>;
    /** Property paths of inputs that arrived as secrets (e.g. `environment`). */
    secretPaths: string[];
    id?: string;
    /** Outputs returned to the program. */
    state: Record<string, any>;
    /** Set once the resource's delete has run in `destroy()`. */
    deleted?: boolean;
}

export interface LogLine {
    resource: string;
    stream: "stdout" | "stderr";
    text: string;
}

type Override = (args: pulumi.runtime.MockResourceArgs, inputs: Record<string, any>) => Record<string, any> | Promise<Record<string, any>>;
type CallOverride = (args: pulumi.runtime.MockCallArgs) => Record<string, any> | Promise<Record<string, any>>;

export class Harness implements pulumi.runtime.Mocks {
    readonly resources: RecordedResource[] = [];
    readonly logs: LogLine[] = [];
    readonly failures: Error[] = [];
    private readonly overrides = new Map<string, Override>();
    private readonly callOverrides = new Map<string, CallOverride>();
    private readonly meta = new Map<string, { parent?: string; dependencies: string[] }>();

    /**
     * `echo`: copy command output to stderr as it arrives (also with HARNESS_ECHO=1).
     * `run: false`: record commands without running them (stdout ""), for graph-only unit tests.
     */
    constructor(private readonly opts: { echo?: boolean; run?: boolean } = {}) {
        this.opts = { echo: process.env.HARNESS_ECHO === "1", run: true, ...opts };
    }

    /** Errors Pulumi raised as unhandled rejections (how a failed registration surfaces under mocks), deduplicated. */
    readonly rejections: Error[] = [];
    private readonly onRejection = (reason: unknown) => {
        const err = reason instanceof Error ? reason : new Error(String(reason));
        if (!this.rejections.some((e) => e.message === err.message)) this.rejections.push(err);
    };

    /**
     * Installs this harness as Pulumi's mock monitor and starts collecting unhandled rejections.
     * Call before constructing resources; call `dispose()` when the test is done.
     */
    async install(project = "project", stack = "stack"): Promise<void> {
        process.on("unhandledRejection", this.onRejection);
        await pulumi.runtime.setMocks(this, project, stack, false);
        // Parents and dependencies, which the Mocks interface does not pass.
        onRegister((req) =>
            this.meta.set(`${req.getType()}::${req.getName()}`, {
                parent: req.getParent() || undefined,
                dependencies: req.getDependenciesList(),
            }),
        );
    }

    /** Stops collecting unhandled rejections. */
    dispose(): void {
        process.off("unhandledRejection", this.onRejection);
    }

    /** Gives every resource of `type` extra outputs computed from its inputs. */
    override(type: string, fn: Override): void {
        this.overrides.set(type, fn);
    }

    /** Answers invokes of `token` (e.g. `aws:ssm/getParameter:getParameter`). */
    overrideCall(token: string, fn: CallOverride): void {
        this.callOverrides.set(token, fn);
    }

    async call(args: pulumi.runtime.MockCallArgs): Promise<Record<string, any>> {
        const fn = this.callOverrides.get(args.token);
        if (!fn) {
            throw new Error(`harness: no answer for invoke ${args.token}; add one with overrideCall()`);
        }
        return fn(args);
    }

    /** Registrations in progress, and when the last one started or ended. */
    inFlight = 0;
    lastActivity = Date.now();

    async newResource(args: pulumi.runtime.MockResourceArgs): Promise<{ id: string | undefined; state: Record<string, any> }> {
        this.inFlight++;
        this.lastActivity = Date.now();
        try {
            return await this.register(args);
        } finally {
            this.inFlight--;
            this.lastActivity = Date.now();
        }
    }

    private async register(args: pulumi.runtime.MockResourceArgs): Promise<{ id: string | undefined; state: Record<string, any> }> {
        const { value, secretPaths } = unwrapSecrets(args.inputs);
        const inputs = value as Record<string, any>;
        const meta = this.meta.get(`${args.type}::${args.name}`) ?? { dependencies: [] };
        const record: RecordedResource = {
            type: args.type,
            name: args.name,
            custom: args.custom ?? false,
            parent: meta.parent,
            dependencies: meta.dependencies,
            inputs,
            secretPaths,
            state: {},
        };
        this.resources.push(record);
        try {
            let state: Record<string, any> = { ...inputs };
            if (this.opts.run === false && args.type.startsWith("command:")) Object.assign(state, { stdout: "", stderr: "" });
            switch (this.opts.run === false ? "" : args.type) {
                case "":
                    break;
                case "command:local:Command":
                    if (inputs.create !== undefined) {
                        Object.assign(state, await runLocal(args.name, { ...inputs, command: inputs.create }, this.sink));
                    }
                    break;
                case "command:remote:Command":
                    if (inputs.create !== undefined) {
                        Object.assign(state, await runRemote(args.name, { ...inputs, connection: inputs.connection, command: inputs.create }, this.sink));
                    }
                    break;
            }
            const override = this.overrides.get(args.type);
            if (override) {
                state = { ...state, ...(await override(args, inputs)) };
            }
            record.state = state;
            record.id = args.custom ? `${args.name}-id` : undefined;
            return { id: record.id, state };
        } catch (err) {
            this.failures.push(err as Error);
            throw err;
        }
    }

    private readonly sink = (resource: string, stream: "stdout" | "stderr", text: string) => {
        this.logs.push({ resource, stream, text });
        if (this.opts.echo) {
            process.stderr.write(`[${resource}] ${text}`);
        }
    };

    /** Resources of one type, in registration order. */
    ofType(type: string): RecordedResource[] {
        return this.resources.filter((r) => r.type === type);
    }

    /** The one resource with this name (throws if none or several). */
    named(name: string): RecordedResource {
        const found = this.resources.filter((r) => r.name === name);
        if (found.length !== 1) {
            throw new Error(`harness: expected one resource named ${name}, found ${found.length}`);
        }
        return found[0];
    }

    /** Everything commands printed, joined. */
    logText(): string {
        return this.logs.map((l) => l.text).join("");
    }

    /** True if `needle` appears in any recorded input that was not marked secret, any output, or any log line. */
    leaks(needle: string): string[] {
        const where: string[] = [];
        for (const r of this.resources) {
            const { value: plainInputs } = unwrapSecrets(stripSecretPaths(r.inputs, r.secretPaths));
            if (stringLeaves(plainInputs).some((s) => s.includes(needle))) where.push(`inputs of ${r.name}`);
            // Outputs returned as secrets (e.g. by installTlsProvider) are not leaks.
            const state = unwrapSecrets(r.state);
            const plainState = stripSecretPaths(state.value as Record<string, any>, state.secretPaths);
            if (stringLeaves(plainState).some((s) => s.includes(needle)) && r.secretPaths.length === 0) where.push(`outputs of ${r.name}`);
        }
        if (this.logText().includes(needle)) where.push("command output");
        return where;
    }

    /**
     * Runs the recorded delete commands in reverse registration order, as `pulumi destroy` would.
     * Every delete runs even if an earlier one fails; the failures are thrown together at the end.
     */
    async destroy(): Promise<void> {
        const errors: Error[] = [];
        for (const r of [...this.resources].reverse()) {
            if (r.deleted || !r.state || r.inputs.delete === undefined) {
                r.deleted = true;
                continue;
            }
            const extraEnv: Record<string, string> =
                r.inputs.addPreviousOutputInEnv === false ? {} : { PULUMI_COMMAND_STDOUT: r.state.stdout ?? "", PULUMI_COMMAND_STDERR: r.state.stderr ?? "" };
            try {
                if (r.type === "command:local:Command") {
                    await runLocal(r.name, { ...r.inputs, command: r.inputs.delete, extraEnv } as any, this.sink);
                } else if (r.type === "command:remote:Command") {
                    await runRemote(
                        r.name,
                        {
                            connection: r.inputs.connection as SshConnection,
                            command: r.inputs.delete,
                            environment: r.inputs.environment,
                            stdin: r.inputs.stdin,
                            extraEnv,
                        },
                        this.sink,
                    );
                }
            } catch (err) {
                errors.push(err as Error);
            }
            r.deleted = true;
        }
        if (errors.length > 0) {
            throw new Error(`destroy: ${errors.length} delete(s) failed:\n${errors.map((e) => e.message).join("\n")}`);
        }
    }
}

/**
 * A fresh, installed harness per program run, as the engine runs each `up` as its own
 * deployment: `next()` disposes the previous one; call `disposeAll()` after each test.
 */
export class HarnessSequence {
    private readonly made: Harness[] = [];

    /** `setup` runs on each new harness once installed (e.g. overrides every test of a file needs). */
    constructor(
        private readonly project: string,
        private readonly setup: (h: Harness) => void = () => undefined,
    ) {}

    async next(): Promise<Harness> {
        this.disposeAll();
        const h = new Harness();
        await h.install(this.project, "test");
        this.setup(h);
        this.made.push(h);
        return h;
    }

    disposeAll(): void {
        this.made.splice(0).forEach((h) => h.dispose());
    }
}

function stripSecretPaths(inputs: Record<string, any>, secretPaths: string[]): Record<string, any> {
    const copy = JSON.parse(JSON.stringify(inputs ?? {}));
    for (const p of secretPaths) {
        const keys = p
            .replace(/\[(\d+)\]/g, ".$1")
            .split(".")
            .filter((k) => k !== "");
        if (keys.length === 0) return {};
        let node = copy;
        for (const k of keys.slice(0, -1)) node = node?.[k];
        if (node && typeof node === "object") delete node[keys[keys.length - 1]];
    }
    return copy;
}

/** Resolves an Output's value in a test (no `done` callbacks). Rejects if the Output does. */
export function unwrap<T>(output: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
    // `promise()` is the Output's own value promise: it rejects when the resource behind it failed,
    // where `apply` would simply never run.
    return (pulumi.output(output) as any).promise() as Promise<T>;
}

/** Waits until every pending resource registration has finished. */
export async function settled(): Promise<void> {
    await waitForRPCs();
}

export { CommandFailed };
