/**
 * Ephemeral builders through the Pulumi Automation API: bring a `Builder` up in a stack of its
 * own, run builds against it, and always destroy it afterwards.
 */
import * as fs from "fs";
import * as path from "path";
import type { LocalWorkspaceOptions, PulumiFn } from "@pulumi/pulumi/automation";
import { BuilderArgs } from "./builder/args";

/**
 * The stack operations `withEphemeralBuilder` needs. The default implementation is the Automation
 * API (`LocalWorkspace.createOrSelectStack` with an inline program); tests substitute fakes.
 */
export interface EphemeralStack {
    /** `pulumi up`; resolves to the stack's outputs as plain values. */
    up(): Promise<Record<string, unknown>>;
    /** `pulumi destroy`. */
    destroy(): Promise<void>;
    /** `pulumi stack rm` (called only after a successful destroy). */
    remove(): Promise<void>;
}

/** What `EphemeralBuilderOptions.stackFactory` is given. */
export interface EphemeralStackSpec {
    projectName: string;
    stackName: string;
    /** The inline program: declares the `Builder` and exports its name as `builderName`. */
    program: PulumiFn;
    /** Passed to `LocalWorkspace` by the default factory (backend, work directory, environment…). */
    workspaceOptions?: LocalWorkspaceOptions;
    /** Receives the engine's output lines. */
    onOutput?: (line: string) => void;
}

/** Creates (or selects) the stack. */
export type EphemeralStackFactory = (spec: EphemeralStackSpec) => Promise<EphemeralStack>;

/**
 * The options of `withEphemeralBuilder(options, fn)`: the `Builder` to bring up in a stack of its
 * own, where that stack lives (project, stack name, `LocalWorkspace` options such as the backend
 * and passphrase), and how output and cleanup failures are reported. Required: `builder`.
 */
export interface EphemeralBuilderOptions {
    /** The builder to bring up: the same arguments as `new Builder(name, args)`. Required. */
    builder: BuilderArgs;
    /**
     * The `Builder`'s resource name inside the stack. With no `builder.name`, the buildx instance
     * name is derived from project, stack and this name, so concurrent runs never collide.
     * Default `"builder"`.
     */
    resourceName?: string;
    /** Project of the builder stack. Default `"buildx-ephemeral"`. */
    projectName?: string;
    /** Name of the builder stack. Default: `ephemeral-<time>-<random>`, unique per call. */
    stackName?: string;
    /** Remove the stack (`pulumi stack rm`) after a successful destroy. Default true. */
    removeStack?: boolean;
    /**
     * Options for `LocalWorkspace` (e.g. `{ envVars: { PULUMI_BACKEND_URL: "file://~" },
     * workDir }`). Default: the Pulumi CLI's own settings.
     */
    workspaceOptions?: LocalWorkspaceOptions;
    /** Receives the engine's output of `up` and `destroy`. Default: discarded. */
    onOutput?: (line: string) => void;
    /**
     * Called with a cleanup (destroy or remove) failure that is not the error being thrown, i.e.
     * when the build (or `up`) failed first and its error is the one reported.
     * Default: `console.error` with the stack name, so a leftover builder can be cleaned up.
     */
    onCleanupError?: (error: unknown, stackName: string) => void;
    /** Replaces the Automation API; for tests. Default: `LocalWorkspace.createOrSelectStack`. */
    stackFactory?: EphemeralStackFactory;
}

/**
 * Thrown when `fn` succeeded but the builder stack could not be destroyed (or removed). The
 * destroy error is the `cause`; `fn`'s result is kept in `result`.
 */
export class EphemeralBuilderCleanupError extends Error {
    constructor(
        message: string,
        public readonly stackName: string,
        public readonly result: unknown,
        options: { cause: unknown },
    ) {
        super(message, options);
        this.name = "EphemeralBuilderCleanupError";
    }
}

/** The stack output that carries the buildx instance name. */
export const BUILDER_NAME_OUTPUT = "builderName";

/**
 * Brings up a `Builder` in a stack of its own, calls `fn` with the buildx instance name (pass it
 * to `docker buildx build --builder NAME`, or to anything else that takes a builder name), and
 * always destroys the stack in `finally`, whether `up` or `fn` failed or not. To read the
 * per-platform digests of what `fn` pushed, call `getPlatformDigests(reference)`: it reads the
 * registry, not the builder, so it needs no builder name.
 *
 * Needs the Pulumi CLI (`pulumi` on `PATH`, or `workspaceOptions.pulumiCommand`) and a backend
 * with a passphrase for the stack's secrets, e.g. `PULUMI_BACKEND_URL=file://~` and
 * `PULUMI_CONFIG_PASSPHRASE` in the environment or in `workspaceOptions.envVars`.
 *
 * Errors: if `up` or `fn` throws, that error is the one thrown and a cleanup failure is reported
 * to `onCleanupError`; if only cleanup fails, an `EphemeralBuilderCleanupError` is thrown with
 * the destroy error as `cause` and `fn`'s result as `result`.
 *
 * ```ts
 * const digests = await withEphemeralBuilder(
 *     {
 *         builder: { nodes: [{ name: "local" }] },
 *         workspaceOptions: { envVars: { PULUMI_BACKEND_URL: "file://~", PULUMI_CONFIG_PASSPHRASE: "" } },
 *     },
 *     async (builder) => {
 *         await run("docker", ["buildx", "build", "--builder", builder, "--platform", "linux/amd64,linux/arm64", "--tag", ref, "--push", "."]);
 *         return getPlatformDigests(ref);
 *     },
 * );
 * ```
 */
export async function withEphemeralBuilder<T>(options: EphemeralBuilderOptions, fn: (builderName: string) => Promise<T>): Promise<T> {
    const projectName = options.projectName ?? "buildx-ephemeral";
    const stackName = options.stackName ?? defaultStackName();
    const resourceName = options.resourceName ?? "builder";
    const factory = options.stackFactory ?? automationStackFactory;
    const reportCleanup = options.onCleanupError ?? defaultCleanupReporter;

    const program: PulumiFn = async () => {
        // Loaded inside the program: the Builder must come from the same @pulumi/pulumi instance
        // that runs the inline program, and importing it here keeps this module light.
        const { Builder } = await import("./builder/component");
        const builder = new Builder(resourceName, options.builder);
        return { [BUILDER_NAME_OUTPUT]: builder.name };
    };

    const stack = await factory({ projectName, stackName, program, workspaceOptions: options.workspaceOptions, onOutput: options.onOutput });

    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
        const outputs = await stack.up();
        const name = outputs[BUILDER_NAME_OUTPUT];
        if (typeof name !== "string" || name === "") {
            throw new Error(`builder stack "${stackName}" has no "${BUILDER_NAME_OUTPUT}" output after up (got ${JSON.stringify(name)})`);
        }
        outcome = { ok: true, value: await fn(name) };
    } catch (error) {
        outcome = { ok: false, error };
    }

    let cleanupError: unknown;
    let cleanupFailed = false;
    try {
        await stack.destroy();
        if (options.removeStack ?? true) await stack.remove();
    } catch (error) {
        cleanupFailed = true;
        cleanupError = error;
    }

    if (!outcome.ok) {
        if (cleanupFailed) reportCleanup(cleanupError, stackName);
        throw outcome.error;
    }
    if (cleanupFailed) {
        throw new EphemeralBuilderCleanupError(
            `the build succeeded but builder stack "${stackName}" (project "${projectName}") was not cleaned up: ${messageOf(cleanupError)}; ` +
                `run \`pulumi destroy --stack ${stackName}\` in that project to remove the builder`,
            stackName,
            outcome.value,
            { cause: cleanupError },
        );
    }
    return outcome.value;
}

/** The Automation API implementation of `EphemeralStackFactory`. */
export const automationStackFactory: EphemeralStackFactory = async (spec) => {
    if (spec.workspaceOptions?.pulumiCommand === undefined) requirePulumiCli();
    const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
    const stack = await LocalWorkspace.createOrSelectStack(
        { projectName: spec.projectName, stackName: spec.stackName, program: spec.program },
        spec.workspaceOptions,
    );
    const onOutput = spec.onOutput;
    return {
        up: async () => {
            const result = await stack.up({ onOutput });
            return Object.fromEntries(Object.entries(result.outputs).map(([key, out]) => [key, out.value]));
        },
        destroy: async () => {
            await stack.destroy({ onOutput });
        },
        remove: () => stack.workspace.removeStack(spec.stackName),
    };
};

/** The message of a missing Pulumi CLI; the Automation API alone would fail with `spawn pulumi ENOENT`. */
export const PULUMI_CLI_MISSING =
    "withEphemeralBuilder needs the Pulumi CLI, and no `pulumi` is on PATH. Install it (https://www.pulumi.com/docs/iac/download-install/, " +
    "e.g. `curl -fsSL https://get.pulumi.com | sh`, then add ~/.pulumi/bin to PATH), or pass workspaceOptions.pulumiCommand";

/** Throws `PULUMI_CLI_MISSING` unless an executable `pulumi` is in one of `searchPath`'s directories. */
export function requirePulumiCli(searchPath = process.env.PATH ?? ""): void {
    const found = searchPath
        .split(path.delimiter)
        .filter((dir) => dir !== "")
        .some((dir) => {
            try {
                fs.accessSync(path.join(dir, "pulumi"), fs.constants.X_OK);
                return true;
            } catch {
                return false;
            }
        });
    if (!found) throw new Error(PULUMI_CLI_MISSING);
}

function defaultStackName(): string {
    return `ephemeral-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

function defaultCleanupReporter(error: unknown, stackName: string): void {
    console.error(`pulumi-buildx: builder stack "${stackName}" was not cleaned up (run \`pulumi destroy --stack ${stackName}\`): ${messageOf(error)}`);
}

function messageOf(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}
