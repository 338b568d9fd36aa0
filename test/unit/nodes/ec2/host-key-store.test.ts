/** The host-key Command's command line, environment and the parser of what it printed (host-key-store.ts), and the reader it runs. */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { HOST_KEY_MARKER } from "../../../../src/nodes/ec2/host-key";
import { HOST_KEY_ENV, hostKeyCommand, hostKeyEnvironment, hostKeyUpdateCommand, parseStoredHostKey } from "../../../../src/nodes/ec2/host-key-store";
import { GUARDED_BASH } from "../../../../src/guard";
import { madeUpHostKey } from "../../../harness";
import { runLocal } from "../../../harness/commands";

describe("Ec2BuilderNode host key stored once per instance (host-key-store)", () => {
    it("runs the compiled reader with node, quoting its path; the sources with ts-node's transpiler", () => {
        assert.strictEqual(
            hostKeyCommand("/opt/app/node_modules/pulumi-buildx/dist/nodes/ec2/host-key-main.js"),
            "node /opt/app/node_modules/pulumi-buildx/dist/nodes/ec2/host-key-main.js",
        );
        assert.strictEqual(hostKeyCommand("/my app/dist/host-key-main.js"), "node '/my app/dist/host-key-main.js'");
        assert.match(hostKeyCommand(), /^node --require \S*\/ts-node\/register\/transpile-only\.js \S*\/src\/nodes\/ec2\/host-key-main\.ts$/);
        assert.throws(() => hostKeyCommand("-e.js"), /must be absolute: -e\.js/);
    });

    it("its update re-prints the stored key (PULUMI_COMMAND_STDOUT) under the guard, and reads only where the state holds none", async () => {
        const update = hostKeyUpdateCommand("echo read the console");
        const stored = `${HOST_KEY_MARKER} ${madeUpHostKey("vm")}`;
        const run = (extraEnv: Record<string, string>) =>
            runLocal("n-host-key", { command: update, interpreter: GUARDED_BASH, environment: { PULUMI_COMMAND_STDOUT: "" }, extraEnv }, () => undefined);
        assert.deepStrictEqual(await run({ PULUMI_COMMAND_STDOUT: stored }), { stdout: stored, stderr: "" });
        assert.strictEqual(parseStoredHostKey((await run({ PULUMI_COMMAND_STDOUT: stored })).stdout, "n"), madeUpHostKey("vm"));
        assert.deepStrictEqual(await run({}), { stdout: "read the console", stderr: "" });
        // The stored text is printed as it is, never run.
        assert.deepStrictEqual(await run({ PULUMI_COMMAND_STDOUT: "$(echo ran) `echo ran` %s\\n" }), { stdout: "$(echo ran) `echo ran` %s\\n", stderr: "" });
        assert.strictEqual(
            hostKeyUpdateCommand(hostKeyCommand("/a b/host-key-main.js")),
            `if [ -n "\${PULUMI_COMMAND_STDOUT:-}" ]; then printf '%s\\n' "$PULUMI_COMMAND_STDOUT"; else node '/a b/host-key-main.js'; fi`,
        );
    });

    it("README says what this does: once per instance, also when the reader's command line or environment changes", () => {
        const readme = fs.readFileSync(path.join(__dirname, "..", "..", "..", "..", "README.md"), "utf8").replace(/\s+/g, " ");
        assert.doesNotMatch(readme, /every `preview` and `up` of a stack with a node reads it again/, "the Limits bullet of the old design");
        assert.doesNotMatch(readme, /The reader runs again if the package moves to another path/);
        assert.match(readme, /The key is read once per instance and kept in the state/);
        assert.match(
            readme,
            /its `update` prints the stored key again \(pulumi-command's `PULUMI_COMMAND_STDOUT`\) instead of reading the console\. Only a new instance ID reads it\./,
        );
        assert.match(readme, /`InvalidInstanceID\.NotFound` answer is retried for 30 s/);
    });

    it("passes the AWS provider's profile as AWS_PROFILE, and nothing without one", () => {
        assert.strictEqual(hostKeyEnvironment({ instanceId: "i-0abc", profile: "ci", nodeName: "arm", timeoutMinutes: 15 }).AWS_PROFILE, "ci");
        assert.ok(!("AWS_PROFILE" in hostKeyEnvironment({ instanceId: "i-0abc", profile: "", nodeName: "arm", timeoutMinutes: 15 })));
        assert.ok(!("AWS_PROFILE" in hostKeyEnvironment({ instanceId: "i-0abc", nodeName: "arm", timeoutMinutes: 15 })));
    });

    it("passes the instance, region, node and time limit in the environment", () => {
        assert.deepStrictEqual(hostKeyEnvironment({ instanceId: "i-0abc", region: "eu-west-1", nodeName: "arm", timeoutMinutes: 15 }), {
            PULUMI_BUILDX_INSTANCE_ID: "i-0abc",
            PULUMI_BUILDX_REGION: "eu-west-1",
            PULUMI_BUILDX_NODE: "arm",
            PULUMI_BUILDX_TIMEOUT_MINUTES: "15",
        });
        assert.strictEqual(hostKeyEnvironment({ instanceId: "i-0abc", nodeName: "arm", timeoutMinutes: 1 }).PULUMI_BUILDX_REGION, "");
    });

    const key = madeUpHostKey("vm");
    const table: [string, string, string | RegExp][] = [
        ["the reader's line", `${HOST_KEY_MARKER} ${key}\n`, key],
        ["with warnings around it", `(node:1) Warning: x\n${HOST_KEY_MARKER} ${key}\n`, key],
        ["nothing", "", /: node arm: the host-key reader printed no ed25519 host key: ""$/],
        ["not a key", `${HOST_KEY_MARKER} ssh-rsa AAAAB3Nza\n`, /printed no ed25519 host key/],
        ["two different keys", `${HOST_KEY_MARKER} ${key}\n${HOST_KEY_MARKER} ${madeUpHostKey("other")}\n`, /2 different ed25519 host keys/],
    ];
    for (const [what, stdout, want] of table) {
        it(`reads the stored key: ${what}`, () => {
            if (typeof want === "string") assert.strictEqual(parseStoredHostKey(stdout, "arm"), want);
            else assert.throws(() => parseStoredHostKey(stdout, "arm"), want);
        });
    }

    it("the reader refuses to run without its environment, naming what it needs", () => {
        const cmd = hostKeyCommand();
        const r = spawnSync("bash", ["-c", cmd], { encoding: "utf8", env: { PATH: process.env.PATH }, cwd: path.join(__dirname, "..", "..", "..", "..") });
        assert.strictEqual(r.status, 1, r.stderr);
        assert.strictEqual(r.stdout, "");
        assert.match(r.stderr, new RegExp(`(^|\\n)pulumi-buildx: expected ${Object.values(HOST_KEY_ENV).join(", ")} in the environment\\n$`));
    });
});
