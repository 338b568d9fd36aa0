/**
 * Reads an EC2 instance's console output with the AWS SDK (`@aws-sdk/client-ec2`, an optional
 * peer dependency: only Ec2BuilderNode needs it), for the host key the VM printed there
 * (`host-key.ts`). Credentials come from the SDK's default chain (environment, `AWS_PROFILE`,
 * SSO, instance role), the region from the instance itself (pulumi-aws's `region` output).
 * `AWS_ENDPOINT_URL_EC2` redirects the calls, as everywhere in the SDK.
 */
import { pollConsoleHostKey } from "./host-key";

/** Seconds between two console reads. */
export const CONSOLE_POLL_SECONDS = 5;

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
 * Asks for the latest output (`Latest: true`, Nitro instances), and for the buffered one when the
 * instance type does not support that (Xen types answer `UnsupportedOperation`).
 */
export async function readHostKeyFromConsole(opts: { nodeName: string; instanceId: string; region?: string; timeoutMinutes: number }): Promise<string> {
    const sdk = loadSdk(opts.nodeName);
    const client = new sdk.EC2Client(opts.region ? { region: opts.region } : {});
    let latest = true;
    try {
        return await pollConsoleHostKey({
            nodeName: opts.nodeName,
            instanceId: opts.instanceId,
            timeoutMs: opts.timeoutMinutes * 60_000,
            intervalMs: CONSOLE_POLL_SECONDS * 1000,
            read: async () => {
                try {
                    const out = await client.send(new sdk.GetConsoleOutputCommand({ InstanceId: opts.instanceId, ...(latest ? { Latest: true } : {}) }));
                    return out.Output === undefined ? undefined : Buffer.from(out.Output, "base64").toString("utf8");
                } catch (err) {
                    if ((err as { name?: string }).name === "UnsupportedOperation" && latest) {
                        latest = false;
                        return undefined;
                    }
                    throw err;
                }
            },
        });
    } finally {
        client.destroy();
    }
}
