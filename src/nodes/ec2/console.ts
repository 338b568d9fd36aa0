/**
 * Reads an EC2 instance's console output with the AWS SDK (`@aws-sdk/client-ec2`, an optional
 * peer dependency: only Ec2BuilderNode needs it), for the host key the VM printed there
 * (`host-key.ts`). Credentials come from the SDK's default chain (environment, `AWS_PROFILE`,
 * SSO, instance role), the region from the instance itself (pulumi-aws's `region` output).
 * `AWS_ENDPOINT_URL_EC2` redirects the calls, as everywhere in the SDK.
 */
import { PermanentConsoleError, pollConsoleHostKey } from "./host-key";

/** Seconds between two console reads. */
export const CONSOLE_POLL_SECONDS = 5;

/** What reads the host key; `pulumi-buildx/testing` swaps in one that answers without AWS. */
export type ConsoleHostKeyReader = (opts: { nodeName: string; instanceId: string; region?: string; timeoutMinutes: number }) => Promise<string>;

/** Global, so a second copy of the package (e.g. `testing` resolved apart from `aws`) sees it too. */
const READER = Symbol.for("pulumi-buildx.ec2.consoleHostKeyReader");

/** For unit tests of programs (pulumi-buildx/testing): read host keys with `reader` instead of the EC2 API; undefined restores the API. */
export function useConsoleHostKeyReader(reader: ConsoleHostKeyReader | undefined): void {
    (globalThis as Record<symbol, unknown>)[READER] = reader;
}

/**
 * Errors that no later poll can cure: the instance is gone, or the deployer may not read it. They
 * fail at once instead of after readyTimeoutMinutes.
 */
const PERMANENT_ERRORS = new Set([
    "InvalidInstanceID.NotFound",
    "InvalidInstanceID.Malformed",
    "UnauthorizedOperation",
    "AuthFailure",
    "CredentialsProviderError",
]);

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
 * boot lines when a long-lived node's latest 64 KB have moved on, as on a later `up`). Instance
 * types without `Latest` (Xen) answer `UnsupportedOperation` and get the buffered one only.
 */
export async function readHostKeyFromConsole(opts: { nodeName: string; instanceId: string; region?: string; timeoutMinutes: number }): Promise<string> {
    const override = (globalThis as Record<symbol, unknown>)[READER] as ConsoleHostKeyReader | undefined;
    if (override) return override(opts);
    const sdk = loadSdk(opts.nodeName);
    const client = new sdk.EC2Client(opts.region ? { region: opts.region } : {});
    let latestSupported = true;
    const read = async (latest: boolean): Promise<string> => {
        try {
            const out = await client.send(new sdk.GetConsoleOutputCommand({ InstanceId: opts.instanceId, ...(latest ? { Latest: true } : {}) }));
            return out.Output === undefined ? "" : Buffer.from(out.Output, "base64").toString("utf8");
        } catch (err) {
            const name = (err as { name?: string }).name ?? "";
            if (!PERMANENT_ERRORS.has(name)) throw err;
            throw new PermanentConsoleError(
                `node ${opts.nodeName} (${opts.instanceId}): GetConsoleOutput failed with ${name}: ${(err as Error).message}. ` +
                    "The deployer needs ec2:GetConsoleOutput on the instance; " +
                    "if the instance no longer exists (its TTL terminates it), run `pulumi up --refresh` to create a new node.",
            );
        }
    };
    try {
        return await pollConsoleHostKey({
            nodeName: opts.nodeName,
            instanceId: opts.instanceId,
            timeoutMs: opts.timeoutMinutes * 60_000,
            intervalMs: CONSOLE_POLL_SECONDS * 1000,
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
