/**
 * Checks of the plain `{ env }` / `{ file }` secrets and `ssh` arguments (see build-sources.ts).
 */
import { InputProblems, invalidReason, isLate, textProblem } from "../errors";
import { isEnvName } from "../shell";
import { SecretSource, SshForward } from "./args";
import { SecretFrom, SshPlan } from "./build-sources";

/**
 * Variables our scripts set or change themselves (see plan.ts and guard.ts): a secret read from
 * one of them would not be the user's value. test/unit/image/script-variables.test.ts reads every
 * assignment off the golden scripts and fails on one missing here.
 */
const SCRIPT_VARIABLES = [
    // plan.ts, exports.ts, per-platform.ts
    ...["work", "dest", "partial", "entries", "store", "top", "password", "orig_config", "d", "f", "DOCKER_CONFIG", "BUILDX_CONFIG", "DOCKER_CONTEXT"],
    // guard.ts, which runs each script
    ...["root", "dead", "id", "run", "child", "rc", "i", "s"],
];
const OWN_PREFIX = "PULUMI_BUILDX_";

/** True for a `secrets` value that names a source (`{ env }` / `{ file }`) rather than being the secret. */
export function isSecretSource(value: unknown): value is SecretSource {
    return typeof value === "object" && value !== null && !isLate(value);
}

/** Why an environment variable cannot carry a build secret, or undefined. */
export function secretEnvProblem(name: unknown): string | undefined {
    if (typeof name !== "string" || !isEnvName(name)) return invalidReason(name, "an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
    if (name.startsWith(OWN_PREFIX) || SCRIPT_VARIABLES.includes(name)) {
        return invalidReason(name, `a variable of your own: names starting with ${OWN_PREFIX} and ${SCRIPT_VARIABLES.join(", ")} are set by the build script`);
    }
    return undefined;
}

/**
 * Checks the `{ env }` / `{ file }` entries of `secrets` and returns them in order. Entries that
 * are values (strings, Outputs) are left to the caller.
 */
export function collectSecretSources(problems: InputProblems, secrets: Record<string, unknown>): SecretFrom[] {
    const sources: SecretFrom[] = [];
    for (const [id, value] of Object.entries(secrets)) {
        if (!isSecretSource(value)) continue;
        const where = `secrets.${id}`;
        const keys = Object.keys(value);
        const source = value as Record<string, unknown>;
        if (keys.length !== 1 || (keys[0] !== "env" && keys[0] !== "file")) {
            problems.invalid(where, value, 'the secret as a string, or where to read it at build time: { env: "VAR" } or { file: "path" }');
        } else if (keys[0] === "env") {
            const reason = secretEnvProblem(source.env);
            if (reason !== undefined) problems.add(`${where}.env`, reason);
            else sources.push({ id, env: source.env as string });
        } else {
            const reason = source.file === "" ? invalidReason(source.file, "a file path") : textProblem(source.file, "a file path", { csv: true });
            if (reason !== undefined) problems.add(`${where}.file`, reason);
            else sources.push({ id, file: source.file as string });
        }
    }
    return sources;
}

/** The id rule of `--ssh` (buildx splits the flag at the first `=`, the paths at `,`). */
const SSH_ID = /^[A-Za-z0-9_.-]{1,128}$/;

/** Checks `ssh` and returns the forwards with `paths` defaulted to none (the agent of SSH_AUTH_SOCK). */
export function collectSsh(problems: InputProblems, ssh: unknown): SshPlan[] {
    if (ssh === undefined) return [];
    if (!Array.isArray(ssh)) {
        problems.invalid("ssh", ssh, 'a list of { id, paths? }, e.g. [{ id: "default" }]');
        return [];
    }
    const forwards: SshPlan[] = [];
    const seen = new Set<string>();
    (ssh as SshForward[]).forEach((f, i) => {
        const id = f?.id;
        if (typeof id !== "string" || !SSH_ID.test(id)) {
            problems.invalid(`ssh[${i}].id`, id, 'an id of letters, digits, ".", "_" or "-", e.g. "default" (what RUN --mount=type=ssh,id=… asks for)');
            return;
        }
        if (seen.has(id)) {
            problems.invalid(`ssh[${i}].id`, id, "each id once");
            return;
        }
        seen.add(id);
        const paths = f.paths ?? [];
        if (!Array.isArray(paths)) {
            problems.invalid(`ssh[${i}].paths`, paths, "a list of agent socket or private key paths");
            return;
        }
        let ok = true;
        paths.forEach((p, j) => {
            const reason =
                typeof p === "string" && (p === "" || p.includes(","))
                    ? invalidReason(p, "a path without `,` (buildx splits --ssh paths at commas)")
                    : textProblem(p, "a path");
            if (reason !== undefined) {
                problems.add(`ssh[${i}].paths[${j}]`, reason);
                ok = false;
            }
        });
        if (ok) forwards.push({ id, paths: [...paths] });
    });
    return forwards;
}
