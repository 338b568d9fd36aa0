/**
 * The names of ephemeral builder stacks: a recognisable prefix, the creation time (UTC, to the
 * second) and a random suffix, e.g. `ephemeral-20261203t091500z-k3x9qa`. The sweeper
 * (`cleanupEphemeralBuilders`) finds leftovers by this name and reads their age from it, so it
 * works even for a stack whose `up` never finished. Pure.
 */

/** Every default ephemeral stack name starts with this. */
export const EPHEMERAL_STACK_PREFIX = "ephemeral-";

/** The default project of ephemeral builder stacks. */
export const EPHEMERAL_PROJECT = "buildx-ephemeral";

const NAME = /^ephemeral-(\d{4})(\d{2})(\d{2})t(\d{2})(\d{2})(\d{2})z-[a-z0-9]+$/;

/** A new stack name for a stack created at `now`. */
export function ephemeralStackName(now: Date, random: string = Math.random().toString(36).slice(2, 8)): string {
    const stamp = now
        .toISOString()
        .replace(/\.\d{3}Z$/, "z")
        .replace(/[-:]/g, "")
        .toLowerCase();
    return `${EPHEMERAL_STACK_PREFIX}${stamp}-${random}`;
}

/** When the stack of that name was created, or undefined if the name is not an ephemeral stack's. */
export function ephemeralStackCreatedAt(stackName: string): Date | undefined {
    // A fully qualified name (`org/project/stack`) ends with the stack's own name.
    const m = NAME.exec(stackName.slice(stackName.lastIndexOf("/") + 1));
    if (!m) return undefined;
    const [, y, mo, d, h, mi, s] = m.map(Number);
    const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
    // Date.UTC rolls a 13th month over into the next year: only a name it reproduces is valid.
    return ephemeralStackName(date, "x").slice(0, -2) === `${EPHEMERAL_STACK_PREFIX}${m.slice(1, 4).join("")}t${m.slice(4, 7).join("")}z` ? date : undefined;
}

/**
 * Why `workspaceOptions` cannot serve ephemeral builder stacks, or undefined. The jobs and the
 * sweeper must see one project, named by `projectName`: with a `workDir` the Automation API takes
 * the project from that directory's `Pulumi.yaml` (and writing the project's settings replaces that
 * file), and `projectSettings` would name another project. Without either, each workspace gets a
 * temporary directory of its own. The backend goes in `envVars.PULUMI_BACKEND_URL`.
 */
export function ephemeralWorkspaceProblem(caller: string, options: { workDir?: unknown; projectSettings?: unknown } | undefined): string | undefined {
    const given = (["workDir", "projectSettings"] as const).filter((k) => options?.[k] !== undefined);
    if (given.length === 0) return undefined;
    return (
        `${caller}: workspaceOptions.${given.join(" and workspaceOptions.")} cannot be used: ephemeral builder stacks live in their own project ` +
        `(projectName, default "${EPHEMERAL_PROJECT}") in a temporary directory, so that withEphemeralBuilder and cleanupEphemeralBuilders ` +
        `find the same stacks and no Pulumi.yaml of yours is rewritten; give the backend as workspaceOptions.envVars.PULUMI_BACKEND_URL ` +
        `(and the passphrase as envVars.PULUMI_CONFIG_PASSPHRASE)`
    );
}
