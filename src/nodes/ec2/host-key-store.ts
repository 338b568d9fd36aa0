/**
 * The SSH host key of an EC2 builder node, read once per instance and kept in the state.
 *
 * The key is read from the instance's console output (`console.ts`) by a local Command whose
 * `create` runs `host-key-main` and prints the key; its `triggers` are the instance ID, so a new
 * (or replaced) instance replaces the Command, which creates it, and reads the console. Its
 * `update` re-prints the stored key: another command line or environment for the same
 * instance (a new `readyTimeoutMinutes`, another checkout path, a package upgrade that moves
 * the reader) updates the Command, and pulumi-command would otherwise run `create` again. So a
 * later preview or `up` takes the key from the Command's `stdout` in the state, with no
 * `GetConsoleOutput` call (which needs the permission, and whose output a long-lived instance's
 * console may have moved past). The readiness connection then verifies the host against it.
 *
 * Pure: the command lines and environment of that Command, and the parser of what it printed.
 */
import * as path from "path";
import { quote } from "../../shell";
import { hostKeyFromConsole } from "./host-key";

/** The environment variables `host-key-main` reads. */
export const HOST_KEY_ENV = {
    instanceId: "PULUMI_BUILDX_INSTANCE_ID",
    region: "PULUMI_BUILDX_REGION",
    nodeName: "PULUMI_BUILDX_NODE",
    timeoutMinutes: "PULUMI_BUILDX_TIMEOUT_MINUTES",
} as const;

/**
 * `node <host-key-main>`: the compiled `.js` beside this module. Run from the TypeScript sources
 * (this repository's tests and engine programs), the `.ts` file with ts-node's transpiler.
 */
export function hostKeyCommand(entry: string = path.join(__dirname, `host-key-main${path.extname(__filename)}`)): string {
    if (!path.isAbsolute(entry)) throw new Error(`host-key reader path must be absolute: ${entry}`);
    if (entry.endsWith(".ts")) return `node --require ${quote(require.resolve("ts-node/register/transpile-only"))} ${quote(entry)}`;
    return `node ${quote(entry)}`;
}

/**
 * The Command's `update`: pulumi-command runs it, instead of `create`, when the inputs of the same
 * instance change, with the previous `stdout` in `PULUMI_COMMAND_STDOUT` (its
 * `addPreviousOutputInEnv`, on by default), which it prints again. Where the state holds no
 * output (nothing was read), it runs `create`, the reader.
 */
export function hostKeyUpdateCommand(create: string): string {
    return `if [ -n "\${PULUMI_COMMAND_STDOUT:-}" ]; then printf '%s\\n' "$PULUMI_COMMAND_STDOUT"; else ${create}; fi`;
}

/**
 * The Command's environment: which instance, where, for which node, and for how long to wait;
 * `AWS_PROFILE` when the Pulumi AWS provider has a `profile`, so the reader's AWS SDK signs as
 * that profile too (with it set, the SDK skips `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`).
 */
export function hostKeyEnvironment(opts: {
    instanceId: string;
    region?: string;
    profile?: string;
    nodeName: string;
    timeoutMinutes: number;
}): Record<string, string> {
    return {
        [HOST_KEY_ENV.instanceId]: opts.instanceId,
        [HOST_KEY_ENV.region]: opts.region ?? "",
        [HOST_KEY_ENV.nodeName]: opts.nodeName,
        [HOST_KEY_ENV.timeoutMinutes]: String(opts.timeoutMinutes),
        ...(opts.profile ? { AWS_PROFILE: opts.profile } : {}),
    };
}

/** The key the Command printed (its one `pulumi-buildx-host-key:` line); throws, naming the node, if there is none. */
export function parseStoredHostKey(stdout: string, nodeName: string): string {
    const key = hostKeyFromConsole(stdout);
    if (key === undefined) throw new Error(`node ${nodeName}: the host-key reader printed no ed25519 host key: ${JSON.stringify(stdout.slice(0, 200))}`);
    return key;
}
