/**
 * Ephemeral builders through the Pulumi Automation API: bring a `Builder` up in a stack of its
 * own, run builds against it, and always destroy it afterwards.
 */
import type { LocalWorkspaceOptions, PulumiFn } from "@pulumi/pulumi/automation";
import { BuilderArgs } from "./builder/args";
import type { Builder } from "./builder/component";
import { EPHEMERAL_PROJECT, ephemeralStackName, ephemeralWorkspaceProblem } from "./ephemeral-names";
import { pulumiCliMissing, requirePulumiCli } from "./pulumi-cli";

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
    /** The inline program: declares the `Builder` (and whatever `program` declares) and exports its name as `builderName`. */
    program: PulumiFn;
    /** Passed to `LocalWorkspace` by the default factory (backend, work directory, environment…). */
    workspaceOptions?: LocalWorkspaceOptions;
    /** Receives the engine's output lines. */
    onOutput?: (line: string) => void;
}

/** Creates (or selects) the stack. */
export type EphemeralStackFactory = (spec: EphemeralStackSpec) => Promise<EphemeralStack>;

/**
 * What declares the builder inside the stack: a program that returns it (and declares whatever
 * it needs, e.g. `Ec2BuilderNode`s; see `ec2BuilderProgram` in `pulumi-buildx/aws`).
 */
export type EphemeralBuilderProgram = () => Builder | Promise<Builder>;

/**
 * The options of `withEphemeralBuilder(options, fn)`: the `Builder` to bring up in a stack of its
 * own (its arguments, or a program that declares it), where that stack lives (project, stack
 * name, `LocalWorkspace` options such as the backend and passphrase), and how output and cleanup
 * failures are reported. Required: exactly one of `builder` and `program`.
 */
export interface EphemeralBuilderOptions {
    /** The builder to bring up: the same arguments as `new Builder(name, args)`. Exactly one of `builder` and `program`. */
    builder?: BuilderArgs;
    /**
     * A function that runs inside the builder stack, declares everything the builder needs (e.g.
     * one `Ec2BuilderNode` per platform) and returns the `Builder`. Everything it declares is
     * destroyed afterwards, as the builder is. Exactly one of `builder` and `program`.
     */
    program?: EphemeralBuilderProgram;
    /**
     * The `Builder`'s resource name inside the stack, with `builder` (a `program` names its own).
     * With no `builder.name`, the buildx instance name is derived from project, stack and this
     * name, so concurrent runs never collide. Default `"builder"`.
     */
    resourceName?: string;
    /** Project of the builder stack. Default `"buildx-ephemeral"` (where `cleanupEphemeralBuilders` looks). */
    projectName?: string;
    /**
     * Name of the builder stack. Default: `ephemeral-<UTC creation time>-<random>` (e.g.
     * `ephemeral-20261203t091500z-k3x9qa`), unique per call; `cleanupEphemeralBuilders` recognises
     * only such names, so a stack you name yourself is never swept.
     */
    stackName?: string;
    /** Remove the stack (`pulumi stack rm`) after a successful destroy. Default true. */
    removeStack?: boolean;
    /**
     * Options for `LocalWorkspace`, e.g. `{ envVars: { PULUMI_BACKEND_URL: "s3://ci-state",
     * PULUMI_CONFIG_PASSPHRASE } }`. Default: the Pulumi CLI's own settings. `workDir` and
     * `projectSettings` are refused: the stack lives in project `projectName` in a temporary
     * directory, where `cleanupEphemeralBuilders` finds it too.
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
 * Brings up a `Builder` in a stack of its own (from `builder` arguments, or declared by
 * `program` together with whatever it needs, e.g. EC2 nodes), calls `fn` with the buildx instance
 * name, and always destroys the stack afterwards, whether `up` or `fn` failed or not. Inside `fn`,
 * build with `buildImage({ builder, … })`: the same validation, secret handling and per-platform
 * digests as `MultiPlatformImage`.
 *
 * Needs the Pulumi CLI (`pulumi` on `PATH`, or `workspaceOptions.pulumiCommand`; without it this
 * fails at once, naming what to install) and a backend with a passphrase for the stack's secrets,
 * e.g. `PULUMI_BACKEND_URL=file://~` and `PULUMI_CONFIG_PASSPHRASE` in the environment or in
 * `workspaceOptions.envVars`. A job killed before its `destroy` leaves its stack behind:
 * `cleanupEphemeralBuilders` removes such leftovers.
 *
 * Errors: if `up` or `fn` throws, that error is the one thrown and a cleanup failure is reported
 * to `onCleanupError`; if only cleanup fails, an `EphemeralBuilderCleanupError` is thrown with
 * the destroy error as `cause` and `fn`'s result as `result`.
 *
 * ```ts
 * const image = await withEphemeralBuilder(
 *     {
 *         program: ec2BuilderProgram({ platforms: ["linux/amd64", "linux/arm64"], allowedCidrs: ["203.0.113.7/32"], sshPublicKey }),
 *         workspaceOptions: { envVars: { PULUMI_BACKEND_URL: "s3://ci-state", PULUMI_CONFIG_PASSPHRASE: passphrase } },
 *     },
 *     (builder) => buildImage({ builder, context: "./app", platforms: ["linux/amd64", "linux/arm64"], tags: [ref] }),
 * );
 * image.platformDigests["linux/arm64"]; // "sha256:…"
 * ```
 */
export async function withEphemeralBuilder<T>(options: EphemeralBuilderOptions, fn: (builderName: string) => Promise<T>): Promise<T> {
    checkOptions(options);
    const projectName = options.projectName ?? EPHEMERAL_PROJECT;
    const stackName = options.stackName ?? ephemeralStackName(new Date());
    const resourceName = options.resourceName ?? "builder";
    const factory = options.stackFactory ?? automationStackFactory;
    const reportCleanup = options.onCleanupError ?? defaultCleanupReporter;

    const program: PulumiFn = async () => {
        // Loaded inside the program: the Builder must come from the same @pulumi/pulumi instance
        // that runs the inline program, and importing it here keeps this module light.
        const [{ Builder }, pulumi] = await Promise.all([import("./builder/component"), import("@pulumi/pulumi")]);
        const builder = options.program !== undefined ? await options.program() : new Builder(resourceName, options.builder as BuilderArgs);
        // A Builder, also from another copy of this package: a resource with a `name` Output.
        if (!pulumi.Resource.isInstance(builder) || !pulumi.Output.isInstance((builder as Partial<Builder>).name)) {
            throw new Error(`withEphemeralBuilder: program returned ${describe(builder)}, not a Builder: return the Builder it declares`);
        }
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
    if (spec.workspaceOptions?.pulumiCommand === undefined) requirePulumiCli("withEphemeralBuilder");
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
export const PULUMI_CLI_MISSING = pulumiCliMissing("withEphemeralBuilder");

/** Exactly one of `builder` and `program`, each of the right kind; throws before anything runs. */
function checkOptions(options: EphemeralBuilderOptions): void {
    const given = (["builder", "program"] as const).filter((k) => options?.[k] !== undefined);
    const problem =
        given.length !== 1
            ? "give exactly one of `builder` (Builder arguments) and `program` (a function that declares and returns a Builder); " +
              `got ${given.length === 0 ? "neither" : "both"}`
            : options.program !== undefined && typeof options.program !== "function"
              ? `\`program\` is ${describe(options.program)}: expected a function that declares and returns a Builder`
              : undefined;
    if (problem !== undefined) throw new Error(`withEphemeralBuilder: ${problem}`);
    const workspaceProblem = ephemeralWorkspaceProblem("withEphemeralBuilder", options.workspaceOptions);
    if (workspaceProblem !== undefined) throw new Error(workspaceProblem);
}

function describe(value: unknown): string {
    return value === null
        ? "null"
        : typeof value === "object"
          ? `an object (${
                Object.keys(value as object)
                    .slice(0, 5)
                    .join(", ") || "no keys"
            })`
          : typeof value;
}

function defaultCleanupReporter(error: unknown, stackName: string): void {
    console.error(`pulumi-buildx: builder stack "${stackName}" was not cleaned up (run \`pulumi destroy --stack ${stackName}\`): ${messageOf(error)}`);
}

function messageOf(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}
