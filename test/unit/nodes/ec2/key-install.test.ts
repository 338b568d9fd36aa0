/**
 * The server-key delivery script, run by bash against a simulated node: `sudo` is a fake that
 * moves /etc/buildkit into a private directory, `systemctl` a fake that records its calls.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderServerKeyInstall } from "../../../../src/nodes/ec2/userdata";

const FAKE_SUDO = `#!/bin/bash
# Runs the command with /etc/buildkit moved under $FAKE_ROOT (and install's -o/-g dropped).
args=()
skip=0
for a in "$@"; do
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  case "$a" in -o|-g) skip=1; continue ;; esac
  case "$a" in /etc/buildkit*) a="$FAKE_ROOT$a" ;; esac
  args+=("$a")
done
exec "\${args[@]}"
`;
const FAKE_SYSTEMCTL = `#!/bin/bash
printf '%s\\n' "$*" >> "$FAKE_ROOT/systemctl.log"
if [ "$1" = cat ]; then [ -e "$FAKE_ROOT/unit-installed" ]; fi
`;
const KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIFAKEFAKEFAKE\n-----END EC PRIVATE KEY-----\n";

describe("EC2 node server-key delivery script", () => {
    let root: string;
    beforeEach(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "ec2-key-"));
        fs.mkdirSync(path.join(root, "bin"));
        fs.writeFileSync(path.join(root, "bin", "sudo"), FAKE_SUDO, { mode: 0o755 });
        fs.writeFileSync(path.join(root, "bin", "systemctl"), FAKE_SYSTEMCTL, { mode: 0o755 });
    });
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    const run = (stdin: string) =>
        spawnSync("bash", ["-c", renderServerKeyInstall()], {
            input: stdin,
            encoding: "utf8",
            env: { ...process.env, FAKE_ROOT: root, PATH: `${path.join(root, "bin")}:${process.env.PATH}` },
        });
    const tlsDir = () => path.join(root, "etc", "buildkit", "tls");
    const calls = () => (fs.existsSync(path.join(root, "systemctl.log")) ? fs.readFileSync(path.join(root, "systemctl.log"), "utf8").trim().split("\n") : []);

    it("writes the key from stdin, private, and leaves buildkitd to its path unit before user-data installed it", () => {
        const r = run(KEY);
        assert.strictEqual(r.status, 0, r.stderr);
        const key = path.join(tlsDir(), "key.pem");
        assert.strictEqual(fs.readFileSync(key, "utf8"), KEY);
        assert.strictEqual(fs.statSync(key).mode & 0o777, 0o600);
        assert.strictEqual(fs.statSync(tlsDir()).mode & 0o777, 0o700);
        assert.deepStrictEqual(fs.readdirSync(tlsDir()), ["key.pem"], "no temporary file is left");
        assert.deepStrictEqual(calls(), ["cat buildkitd.service"]);
        assert.ok(!r.stdout.includes("PRIVATE KEY") && !r.stderr.includes("PRIVATE KEY"), "the key is never printed");
    });

    it("restarts buildkitd when it is installed already (key delivered after user-data, or re-delivered)", () => {
        fs.writeFileSync(path.join(root, "unit-installed"), "");
        assert.strictEqual(run(KEY).status, 0);
        const again = KEY.replace("FAKEFAKE", "NEWNEW");
        assert.strictEqual(run(again).status, 0);
        assert.strictEqual(fs.readFileSync(path.join(tlsDir(), "key.pem"), "utf8"), again);
        assert.deepStrictEqual(calls(), ["cat buildkitd.service", "restart buildkitd.service", "cat buildkitd.service", "restart buildkitd.service"]);
    });

    it("refuses stdin that is not a PEM private key, and writes nothing", () => {
        const r = run("/home/me/.ssh/key.pem\n");
        assert.strictEqual(r.status, 1);
        assert.match(r.stderr, /no PEM private key on stdin/);
        assert.deepStrictEqual(fs.readdirSync(tlsDir()), []);
        assert.deepStrictEqual(calls(), []);
    });
});
