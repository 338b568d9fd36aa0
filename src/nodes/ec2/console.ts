/**
 * Reads an EC2 instance's console output with the AWS SDK (`@aws-sdk/client-ec2`, an optional
 * peer dependency: only Ec2BuilderNode needs it), for the host key the VM printed there
 * (`host-key.ts`). Credentials come from the SDK's default chain (environment, `AWS_PROFILE`,
 * SSO, instance role; the host-key Command sets `AWS_PROFILE` to the Pulumi AWS provider's
 * `profile`, when it has one), the region from the instance itself (pulumi-aws's `region`
 * output). `AWS_ENDPOINT_URL_EC2` redirects the calls, as everywhere in the SDK.
 */
import { PermanentConsoleError, pollConsoleHostKey } from "./host-key";

/** Seconds between two console reads. */
export const CONSOLE_POLL_SECONDS = 5;

/**
 * How long `InvalidInstanceID.NotFound` is retried after the reader starts, which is right after
 * the instance was launched: EC2 is eventually consistent, and a new instance's ID may not be
 * visible to every API call at once.
 */
export const NOT_FOUND_RETRY_SECONDS = 30;

export interface ConsoleReadOptions {
    nodeName: string;
    instanceId: string;
    region?: string;
    timeoutMinutes: number;
    /** For tests: the pause between two polls (default CONSOLE_POLL_SECONDS) and how long NotFound is retried (default NOT_FOUND_RETRY_SECONDS). */
    pollMs?: number;
    notFoundRetryMs?: number;
}

/** What reads the host key; `pulumi-buildx/testing` swaps in one that answers without AWS. */
export type ConsoleHostKeyReader = (opts: ConsoleReadOptions) => Promise<string>;

/** Global, so a second copy of the package (e.g. `testing` resolved apart from `aws`) sees it too. */
const READER = Symbol.for("pulumi-buildx.ec2.consoleHostKeyReader");

/** For unit tests of programs (pulumi-buildx/testing): read host keys with `reader` instead of the EC2 API; undefined restores the API. */
export function useConsoleHostKeyReader(reader: ConsoleHostKeyReader | undefined): void {
    (globalThis as Record<symbol, unknown>)[READER] = reader;
}

/**
 * Errors that no later poll can cure: the instance is gone (or not visible to these credentials),
 * or the deployer may not read it. They fail at once instead of after readyTimeoutMinutes;
 * NotFound only after NOT_FOUND_RETRY_SECONDS.
 */
const NOT_FOUND = "InvalidInstanceID.NotFound";
const PERMANENT_ERRORS = new Set([NOT_FOUND, "InvalidInstanceID.Malformed", "UnauthorizedOperation", "AuthFailure", "CredentialsProviderError"]);

/** Which credentials and region the reader used, and how to make them the Pulumi AWS provider's. */
function credentialsNote(region: string | undefined): string {
    const profile = process.env.AWS_PROFILE ? `AWS_PROFILE=${process.env.AWS_PROFILE}` : "AWS_PROFILE not set";
    return (
        `The reader signs with the AWS SDK's default credential chain on this machine (${profile}): ` +
        "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN unless AWS_PROFILE is set, " +
        "then the profile AWS_PROFILE names (or default) in ~/.aws/config and ~/.aws/credentials (SSO, credential_process), " +
        `then web identity and the container or instance role; region ${region || "from AWS_REGION or the profile"}. ` +
        "Ec2BuilderNode sets AWS_PROFILE to the Pulumi AWS provider's profile (aws:profile, or an explicit provider's), " +
        "but the reader cannot follow the provider's assumeRole or explicit credentials: if they are another account's or role's, " +
        "give this machine the same ones (e.g. a profile that assumes that role, as aws:profile)."
    );
}

interface Ec2Sdk {
    EC2Client: new (config: { region?: string }) => { send(command: unknown): Promise<{ Output?: string }>; destroy(): void };
    GetConsoleOutputCommand: new (input: { InstanceId: string; Latest?: boolean }) => unknown;
}

function loadSdk(nodeName: string): Ec2Sdk {
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return require("@aws-sdk/client-ec2") as Ec2Sdk;
    } catch (err) {
        throw new Error(
            `node ${nodeName}: Ec2BuilderNode reads the VM's SSH host key from its EC2 console output with the AWS SDK, ` +
                `and @aws-sdk/client-ec2 could not be loaded (${(err as Error).message}); install it: npm install @aws-sdk/client-ec2`,
        );
    }
}

/**
 * The instance's ed25519 host key, once its console shows it; throws after `timeoutMinutes`.
 * Each poll reads the latest output (`Latest: true`, Nitro instances: a fresh VM prints the key
 * about a minute after boot) and the buffered one AWS posts after boot (which still holds the
 * boot lines when the latest 64 KB have already moved on). Instance
 * types without `Latest` (Xen) answer `UnsupportedOperation` and get the buffered one only.
 */
export async function readHostKeyFromConsole(opts: ConsoleReadOptions): Promise<string> {
    const override = (globalThis as Record<symbol, unknown>)[READER] as ConsoleHostKeyReader | undefined;
    if (override) return override(opts);
    const sdk = loadSdk(opts.nodeName);
    const client = new sdk.EC2Client(opts.region ? { region: opts.region } : {});
    const started = Date.now();
    const notFoundRetryMs = opts.notFoundRetryMs ?? NOT_FOUND_RETRY_SECONDS * 1000;
    let latestSupported = true;
    const read = async (latest: boolean): Promise<string> => {
        try {
            const out = await client.send(new sdk.GetConsoleOutputCommand({ InstanceId: opts.instanceId, ...(latest ? { Latest: true } : {}) }));
            return out.Output === undefined ? "" : Buffer.from(out.Output, "base64").toString("utf8");
        } catch (err) {
            const name = (err as { name?: string }).name ?? "";
            if (!PERMANENT_ERRORS.has(name)) throw err;
            const waited = Math.round((Date.now() - started) / 1000);
            if (name === NOT_FOUND && Date.now() - started < notFoundRetryMs) {
                throw new Error(`${name} after ${waited} s (retried for ${Math.round(notFoundRetryMs / 1000)} s: EC2 is eventually consistent)`);
            }
            throw new PermanentConsoleError(
                `node ${opts.nodeName} (${opts.instanceId}): GetConsoleOutput failed with ${name}` +
                    `${name === NOT_FOUND ? ` (still after ${waited} s)` : ""}: ${(err as Error).message}. ` +
                    (name === NOT_FOUND
                        ? "Most likely the reader's credentials are of another account (or its region another) than the Pulumi AWS provider's. "
                        : "The deployer needs ec2:GetConsoleOutput on the instance. ") +
                    credentialsNote(opts.region) +
                    (name === NOT_FOUND ? " Or the instance no longer exists (its TTL terminates it): run `pulumi up --refresh` to create a new node." : ""),
            );
        }
    };
    try {
        return await pollConsoleHostKey({
            nodeName: opts.nodeName,
            instanceId: opts.instanceId,
            timeoutMs: opts.timeoutMinutes * 60_000,
            intervalMs: opts.pollMs ?? CONSOLE_POLL_SECONDS * 1000,
            read: async () => {
                let latest = "";
                if (latestSupported) {
                    try {
                        latest = await read(true);
                    } catch (err) {
                        if ((err as { name?: string }).name !== "UnsupportedOperation") throw err;
                        latestSupported = false;
                    }
                }
                const text = [latest, await read(false)].filter((t) => t !== "").join("\n");
                return text === "" ? undefined : text;
            },
        });
    } finally {
        client.destroy();
    }
}
