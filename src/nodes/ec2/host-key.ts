/**
 * The SSH host key of an EC2 builder node, learned out of band: the VM prints it to its serial
 * console at the first boot, and the EC2 API (`GetConsoleOutput`) returns what the console
 * printed. Nobody on the network path can write to that console, so the key read there is the
 * key the readiness connection must see (pulumi-command's `connection.hostKey`, checked before
 * the session, and so before the BuildKit server's private key on stdin, is sent).
 *
 * Pure: the user-data lines that print the key, the parser of the console text, and the poll
 * loop with its reader injected (`console.ts` gives it the AWS SDK).
 */
import { quote } from "../../shell";

/** The line user-data prints to the console: `pulumi-buildx-host-key: ssh-ed25519 AAAA…`. */
export const HOST_KEY_MARKER = "pulumi-buildx-host-key:";
/** The host key file whose public half is printed (cloud-init generates it before user-data runs). */
export const HOST_KEY_FILE = "/etc/ssh/ssh_host_ed25519_key.pub";
/** cloud-init's own block (`write-ssh-key-fingerprints`), printed by most cloud images. */
const CLOUD_INIT_BEGIN = "-----BEGIN SSH HOST KEY KEYS-----";
const CLOUD_INIT_END = "-----END SSH HOST KEY KEYS-----";
const ED25519 = /^ssh-ed25519 [A-Za-z0-9+/]+={0,3}$/;

/** The console names two different host keys: nothing there can be trusted (never retried). */
export class HostKeyConflict extends Error {}

/**
 * The user-data section that prints the ed25519 host key to the serial console (and the setup
 * log). First in user-data after the TTL, so the key is on the console long before Docker or
 * BuildKit is installed.
 */
export function hostKeyToConsole(): string {
    const file = quote(HOST_KEY_FILE);
    return `# The SSH host key, printed to the serial console: the deployer reads it back through the EC2
# API (GetConsoleOutput) and refuses an SSH server that presents another key.
for _ in $(seq 1 60); do [ -s ${file} ] && break; sleep 1; done
if [ ! -s ${file} ]; then
  echo ${quote(`pulumi-buildx: no ed25519 SSH host key (${HOST_KEY_FILE}): the deployer could not verify this node`)} >&2
  exit 1
fi
host_key_line="${HOST_KEY_MARKER} $(cut -d' ' -f1,2 ${file})"
echo "$host_key_line"
{ echo "$host_key_line" > /dev/console; } 2>/dev/null || true
`;
}

/**
 * The ed25519 host key (`ssh-ed25519 AAAA…`) in a console output, from our marker lines and
 * cloud-init's `BEGIN SSH HOST KEY KEYS` block; undefined while none is there yet. Every line
 * that names an ed25519 key must name the same one: two different keys mean the console cannot
 * be trusted, and it throws.
 */
export function hostKeyFromConsole(output: string): string | undefined {
    const found = new Set<string>();
    let inBlock = false;
    for (const raw of output.split("\n")) {
        // cloud-init's logger prefixes "ec2: "; the console may add carriage returns.
        const line = raw
            .replace(/\r/g, "")
            .trim()
            .replace(/^ec2:\s*/, "");
        if (line === CLOUD_INIT_BEGIN) inBlock = true;
        else if (line === CLOUD_INIT_END) inBlock = false;
        else if (line.startsWith(HOST_KEY_MARKER)) addKey(found, line.slice(HOST_KEY_MARKER.length).trim());
        else if (inBlock && line.startsWith("ssh-ed25519 ")) addKey(found, line.split(/\s+/).slice(0, 2).join(" "));
    }
    if (found.size > 1) {
        throw new HostKeyConflict(
            `the console output names ${found.size} different ed25519 host keys (${[...found].join(", ")}): refusing to trust any of them`,
        );
    }
    return found.size === 1 ? [...found][0] : undefined;
}

function addKey(found: Set<string>, key: string): void {
    if (ED25519.test(key)) found.add(key);
}

export interface ConsolePollOptions {
    /** For messages: the node's name and its instance ID. */
    nodeName: string;
    instanceId: string;
    timeoutMs: number;
    intervalMs: number;
    /** The console output so far (decoded), or undefined while the API has none yet. */
    read: () => Promise<string | undefined>;
    /** Injected for tests. */
    now?: () => number;
    sleep?: (ms: number) => Promise<void>;
}

/** A console read that no later poll can cure (the instance is gone, access denied): fails at once. */
export class PermanentConsoleError extends Error {}

/**
 * Reads the console until it shows the host key; throws, naming the node and the instance, after
 * `timeoutMs`. An error of `read` (throttling, a network error) is retried until then and quoted
 * in the final message; a `PermanentConsoleError` fails at once.
 */

export async function pollConsoleHostKey(opts: ConsolePollOptions): Promise<string> {
    const now = opts.now ?? Date.now;
    const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const start = now();
    let last = "the console output was empty";
    for (;;) {
        try {
            const output = await opts.read();
            if (output !== undefined && output !== "") {
                const key = hostKeyFromConsole(output);
                if (key !== undefined) return key;
                last = `the console output (${output.length} characters) has no "${HOST_KEY_MARKER}" line yet`;
            }
        } catch (err) {
            if (err instanceof HostKeyConflict) throw new HostKeyConflict(`node ${opts.nodeName} (${opts.instanceId}): ${err.message}`);
            if (err instanceof PermanentConsoleError) throw err;
            last = `GetConsoleOutput failed: ${(err as Error).message}`;
        }
        if (now() - start >= opts.timeoutMs) {
            throw new Error(
                `node ${opts.nodeName} (${opts.instanceId}): its SSH host key did not appear on the EC2 console ` +
                    `within ${Math.round(opts.timeoutMs / 60000)} min ` +
                    `(readyTimeoutMinutes), so it cannot be verified and no connection was made; last: ${last}. ` +
                    "The deployer needs ec2:GetConsoleOutput on the instance, " +
                    "and the AMI must print user-data's output to its serial console (Amazon Linux 2023 does). " +
                    "If the instance no longer exists (its TTL terminates it), run `pulumi up --refresh` to create a new node.",
            );
        }
        await sleep(opts.intervalMs);
    }
}
