/**
 * The sweeper for ephemeral builder stacks that nothing cleaned up: a CI job SIGKILLed (or a
 * runner lost) between `withEphemeralBuilder`'s `up` and its `destroy` leaves a stack, and with it
 * a buildx instance, TLS files and possibly VMs. `cleanupEphemeralBuilders` destroys and removes
 * such stacks, recognised by name (`ephemeral-<UTC time>-<random>`, see ephemeral-names.ts).
 */
import type { LocalWorkspaceOptions } from "@pulumi/pulumi/automation";
import { EPHEMERAL_PROJECT, ephemeralStackCreatedAt, ephemeralWorkspaceProblem } from "./ephemeral-names";
import { requirePulumiCli } from "./pulumi-cli";

/** One stack as the backend lists it. */
export interface ListedStack {
    name: string;
    /** An update (up, destroy, refresh) is running on it now. */
    updateInProgress: boolean;
}

/** The backend operations the sweeper needs; the default is the Automation API. Tests substitute fakes. */
export interface EphemeralStackStore {
    list(): Promise<ListedStack[]>;
    destroy(stackName: string): Promise<void>;
    remove(stackName: string): Promise<void>;
}

/** The options of `cleanupEphemeralBuilders`. Required: `olderThanMinutes`. */
export interface CleanupEphemeralBuildersOptions {
    /**
     * Only stacks created at least this many minutes ago. Give more than your longest build, so a
     * job still running is not swept; 0 sweeps every ephemeral stack. Required.
     */
    olderThanMinutes: number;
    /**
     * Where the stacks live: the same `LocalWorkspaceOptions` the jobs gave `withEphemeralBuilder`
     * (backend in `envVars`). Default: the CLI's settings. `workDir` and `projectSettings` are
     * refused, as there.
     */
    workspaceOptions?: LocalWorkspaceOptions;
    /** Project of the builder stacks. Default `"buildx-ephemeral"`, as in `withEphemeralBuilder`. */
    projectName?: string;
    /** Receives the engine's output of each destroy. Default: discarded. */
    onOutput?: (line: string) => void;
    /** The time to measure ages from. Default: now. */
    now?: Date;
    /** Replaces the Automation API; for tests. */
    store?: EphemeralStackStore;
}

/** What the sweeper did, stack by stack. */
export interface CleanupEphemeralBuildersReport {
    /** Destroyed and removed. */
    removed: { stackName: string; createdAt: Date }[];
    /** Left alone, with the reason (an update in progress, or locked). */
    skipped: { stackName: string; createdAt: Date; reason: string }[];
    /** Destroy or remove failed; the stack is still there. */
    failed: { stackName: string; createdAt: Date; error: unknown }[];
}

/**
 * Destroys and removes the ephemeral builder stacks older than `olderThanMinutes` in
 * `projectName`, skipping stacks with an update in progress, and reports each stack it looked at.
 * One stack's failure does not stop the others; it is in `failed`. Stacks whose names were not
 * made by `withEphemeralBuilder` (an explicit `stackName`) are never touched.
 *
 * ```ts
 * // A scheduled job, with the backend the CI jobs use:
 * const report = await cleanupEphemeralBuilders({ olderThanMinutes: 120, workspaceOptions });
 * for (const s of report.removed) console.log(`removed ${s.stackName} (created ${s.createdAt.toISOString()})`);
 * ```
 */
export async function cleanupEphemeralBuilders(options: CleanupEphemeralBuildersOptions): Promise<CleanupEphemeralBuildersReport> {
    const minutes = options.olderThanMinutes;
    if (typeof minutes !== "number" || !Number.isFinite(minutes) || minutes < 0) {
        throw new Error(`cleanupEphemeralBuilders: olderThanMinutes ${JSON.stringify(minutes)} is not valid: expected a number of minutes, 0 or more`);
    }
    const workspaceProblem = ephemeralWorkspaceProblem("cleanupEphemeralBuilders", options.workspaceOptions);
    if (workspaceProblem !== undefined) throw new Error(workspaceProblem);
    const projectName = options.projectName ?? EPHEMERAL_PROJECT;
    const store = options.store ?? (await automationStore(projectName, options));
    const cutoff = (options.now ?? new Date()).getTime() - minutes * 60_000;
    const report: CleanupEphemeralBuildersReport = { removed: [], skipped: [], failed: [] };
    for (const listed of await store.list()) {
        const createdAt = ephemeralStackCreatedAt(listed.name);
        if (createdAt === undefined || createdAt.getTime() > cutoff) continue;
        const stackName = listed.name;
        if (listed.updateInProgress) {
            report.skipped.push({ stackName, createdAt, reason: "an update is in progress" });
            continue;
        }
        try {
            await store.destroy(stackName);
            await store.remove(stackName);
            report.removed.push({ stackName, createdAt });
        } catch (error) {
            // A lock left by a running (or killed) update: not ours to break.
            if (isLockedError(messageOf(error))) {
                report.skipped.push({
                    stackName,
                    createdAt,
                    reason:
                        `locked: ${messageOf(error).split("\n")[0]} (if no job still runs on it, a killed update left the lock: ` +
                        `\`pulumi cancel --stack ${stackName}\`, or on a file/S3 backend delete the lock named in the message, then sweep again)`,
                });
            } else {
                report.failed.push({ stackName, createdAt, error });
            }
        }
    }
    return report;
}

async function automationStore(projectName: string, options: CleanupEphemeralBuildersOptions): Promise<EphemeralStackStore> {
    if (options.workspaceOptions?.pulumiCommand === undefined) requirePulumiCli("cleanupEphemeralBuilders");
    const { LocalWorkspace, Stack } = await import("@pulumi/pulumi/automation");
    const workspace = await LocalWorkspace.create({ ...options.workspaceOptions, projectSettings: { name: projectName, runtime: "nodejs" } });
    return {
        list: async () => (await workspace.listStacks()).map((s) => ({ name: s.name, updateInProgress: s.updateInProgress === true })),
        destroy: async (stackName) => {
            // Destroy runs no program: what the stack's state holds is deleted.
            const stack = await Stack.select(stackName, workspace);
            await stack.destroy({ onOutput: options.onOutput });
        },
        remove: (stackName) => workspace.removeStack(stackName),
    };
}

/**
 * The engine's answers for a stack another update holds: a file/S3 backend's "the stack is
 * currently locked by 1 lock(s)…", the Pulumi Cloud's "[409] Conflict: Another update is currently
 * in progress". Not any "conflict" (e.g. a provider's 409 while destroying is a failure).
 */
export function isLockedError(message: string): boolean {
    return /stack is currently locked|another update is currently in progress|update is in progress/i.test(message);
}

function messageOf(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}
