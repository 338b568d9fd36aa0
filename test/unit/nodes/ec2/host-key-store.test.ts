/** The host-key Command's command line, environment and the parser of what it printed (host-key-store.ts), and the reader it runs. */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { HOST_KEY_MARKER } from "../../../../src/nodes/ec2/host-key";
import { HOST_KEY_ENV, hostKeyCommand, hostKeyEnvironment, parseStoredHostKey } from "../../../../src/nodes/ec2/host-key-store";
import { madeUpHostKey } from "../../../harness";

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
