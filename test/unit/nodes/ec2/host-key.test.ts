/**
 * The out-of-band SSH host key: what user-data prints to the console, the parser of the console
 * text (our marker line and cloud-init's block; two different keys are refused), and the poll
 * loop's timeout and error messages (with an injected clock).
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    HOST_KEY_MARKER,
    hostKeyFromConsole,
    HostKeyConflict,
    hostKeyToConsole,
    PermanentConsoleError,
    pollConsoleHostKey,
} from "../../../../src/nodes/ec2/host-key";
import { madeUpHostKey } from "../../../harness";

const KEY = madeUpHostKey("a");
const OTHER = madeUpHostKey("b");

describe("EC2 host key from the console", () => {
    const cases: [string, string, string | undefined][] = [
        ["nothing yet", "", undefined],
        ["kernel lines only", "[    0.000000] Linux version 6.1\r\n[    1.0] booting\r\n", undefined],
        ["our marker line", `[ 1.0] x\r\n${HOST_KEY_MARKER} ${KEY}\r\n`, KEY],
        ["the marker twice (stdout and /dev/console)", `${HOST_KEY_MARKER} ${KEY}\n${HOST_KEY_MARKER} ${KEY}\n`, KEY],
        [
            "cloud-init's block, ec2: prefixed, with other key types",
            `ec2: -----BEGIN SSH HOST KEY KEYS-----\necdsa-sha2-nistp256 AAAAE2VjZHNh root@ip\n${KEY} root@ip-10-0-0-1\nec2: -----END SSH HOST KEY KEYS-----\n`,
            KEY,
        ],
        ["an ed25519 line outside cloud-init's block is not a key", `${KEY} root@ip\n`, undefined],
        ["a marker in the middle of a line is not ours", `sshd: invalid user ${HOST_KEY_MARKER} ${OTHER}\n`, undefined],
        ["a malformed key after the marker", `${HOST_KEY_MARKER} ssh-ed25519 not*base64\n`, undefined],
        ["an RSA key after the marker", `${HOST_KEY_MARKER} ssh-rsa AAAAB3NzaC1yc2E=\n`, undefined],
    ];
    for (const [what, console, expected] of cases) {
        it(`${what} → ${expected === undefined ? "no key" : "the key"}`, () => {
            assert.strictEqual(hostKeyFromConsole(console), expected);
        });
    }

    it("refuses a console that names two different ed25519 keys", () => {
        const text = `${HOST_KEY_MARKER} ${KEY}\n-----BEGIN SSH HOST KEY KEYS-----\n${OTHER} root@x\n-----END SSH HOST KEY KEYS-----\n`;
        assert.throws(
            () => hostKeyFromConsole(text),
            (e: Error) => e instanceof HostKeyConflict && e.message.includes(KEY) && e.message.includes(OTHER),
        );
    });

    it("user-data's section prints the marker line, to the setup log and the console, that the parser reads; it fails without a key", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "host-key-"));
        try {
            const pub = path.join(dir, "ssh_host_ed25519_key.pub");
            const consoleFile = path.join(dir, "console");
            // The real paths replaced by files of this test (and the minute's wait by a second).
            const script = (file: string) =>
                `set -euo pipefail\n${hostKeyToConsole().split("/etc/ssh/ssh_host_ed25519_key.pub").join(file).split("/dev/console").join(consoleFile).replace("seq 1 60", "seq 1 1")}`;
            fs.writeFileSync(pub, `${KEY} root@ip-10-0-0-1\n`);
            const ok = spawnSync("bash", ["-c", script(pub)], { encoding: "utf8" });
            assert.strictEqual(ok.status, 0, ok.stderr);
            assert.strictEqual(hostKeyFromConsole(ok.stdout), KEY);
            assert.strictEqual(hostKeyFromConsole(fs.readFileSync(consoleFile, "utf8")), KEY);
            const missing = spawnSync("bash", ["-c", script(path.join(dir, "none.pub"))], { encoding: "utf8" });
            assert.strictEqual(missing.status, 1);
            assert.match(missing.stderr, /no ed25519 SSH host key/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("polling the console for the host key", () => {
    const clock = () => {
        let t = 0;
        return { now: () => t, sleep: async (ms: number) => void (t += ms) };
    };
    const base = { nodeName: "arm", instanceId: "i-0abc", timeoutMs: 60_000, intervalMs: 5_000 };

    it("returns the key once the console shows it, after empty and keyless answers", async () => {
        const answers = [undefined, "", "[ 0.0] Linux\n", `${HOST_KEY_MARKER} ${KEY}\n`];
        let reads = 0;
        const key = await pollConsoleHostKey({ ...base, ...clock(), read: async () => answers[reads++] });
        assert.strictEqual(key, KEY);
        assert.strictEqual(reads, 4);
    });

    it("retries API errors, then times out naming the node, the instance, the last error and the permission", async () => {
        let reads = 0;
        const read = async (): Promise<string> => {
            reads++;
            throw new Error("You are not authorized to perform this operation.");
        };
        await assert.rejects(pollConsoleHostKey({ ...base, ...clock(), read }), (e: Error) => {
            assert.match(e.message, /^node arm \(i-0abc\): its SSH host key did not appear on the EC2 console within 1 min/);
            assert.match(e.message, /no connection was made/);
            assert.match(e.message, /GetConsoleOutput failed: You are not authorized/);
            assert.match(e.message, /ec2:GetConsoleOutput/);
            return true;
        });
        assert.strictEqual(reads, 13, "one read every 5 s for 60 s, and one at the deadline");
    });

    it("fails at once on an error no later read can cure (instance gone, access denied)", async () => {
        let reads = 0;
        const read = async () => {
            reads++;
            throw new PermanentConsoleError("node arm (i-0abc): GetConsoleOutput failed with InvalidInstanceID.NotFound");
        };
        await assert.rejects(pollConsoleHostKey({ ...base, ...clock(), read }), /InvalidInstanceID\.NotFound/);
        assert.strictEqual(reads, 1);
    });

    it("never retries a console that names two keys", async () => {
        let reads = 0;
        const read = async () => (reads++, `${HOST_KEY_MARKER} ${KEY}\n${HOST_KEY_MARKER} ${OTHER}\n`);
        await assert.rejects(
            pollConsoleHostKey({ ...base, ...clock(), read }),
            (e: Error) => e instanceof HostKeyConflict && /^node arm \(i-0abc\): /.test(e.message),
        );
        assert.strictEqual(reads, 1);
    });
});
