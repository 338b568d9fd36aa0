import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { Harness, madeUpHostKey, runProgram, unwrap } from "../harness";
import { runRemote } from "../harness/commands";

class Parent extends pulumi.ComponentResource {
    readonly child: command.local.Command;
    constructor(name: string, create: string) {
        super("test:index:Parent", name, {}, {});
        this.child = new command.local.Command(`${name}-child`, { create }, { parent: this });
        this.registerOutputs({});
    }
}

class Thing extends pulumi.CustomResource {
    declare readonly address: pulumi.Output<string>;
    constructor(name: string, size: number) {
        super("test:index:Thing", name, { size, address: undefined }, {});
    }
}

describe("test harness", () => {
    let harness: Harness;
    let dir: string;
    beforeEach(async () => {
        harness = new Harness();
        await harness.install();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "harness-test-"));
    });
    afterEach(() => {
        harness.dispose();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("really runs local commands with dir, environment, stdin and interpreter", async () => {
        const { result, errors } = await runProgram(
            harness,
            () =>
                new command.local.Command("c", {
                    create: 'pwd; printf "%s|" "$GREETING"; cat; printf "|%s" "$BASH_VERSION" | cut -c1-2',
                    dir,
                    environment: { GREETING: "hello" },
                    stdin: "from-stdin",
                    interpreter: ["/bin/bash", "-c"],
                }),
        );
        assert.deepStrictEqual(errors, []);
        const stdout = await unwrap(result!.stdout);
        const [cwd, rest] = stdout.split("\n");
        assert.strictEqual(fs.realpathSync(cwd), fs.realpathSync(dir));
        assert.match(rest, /^hello\|from-stdin\|[0-9]/);
    });

    it("fails the resource with the command's own stderr on a non-zero exit", async () => {
        const { result, errors } = await runProgram(harness, () => new command.local.Command("bad", { create: "echo 'no such thing' >&2; exit 7" }));
        assert.strictEqual(errors.length, 1);
        assert.match(errors[0].message, /exit status 7/);
        assert.match(errors[0].message, /no such thing/);
        await assert.rejects(unwrap(result!.stdout), /no such thing/);
    });

    it("records parents, dependencies and where secrets were", async () => {
        await runProgram(harness, () => {
            const p = new Parent("p", "echo parent-child");
            new command.local.Command("s", { create: "true", environment: { TOKEN: pulumi.secret("t0ken") } }, { dependsOn: p.child });
        });
        const child = harness.named("p-child");
        assert.strictEqual(child.parent, "urn:pulumi:stack::project::test:index:Parent::p");
        const s = harness.named("s");
        assert.deepStrictEqual(s.secretPaths, ["environment"]);
        assert.deepStrictEqual(s.inputs.environment, { TOKEN: "t0ken" });
        assert.deepStrictEqual(s.dependencies, ["urn:pulumi:stack::project::test:index:Parent$command:local:Command::p-child"]);
        assert.deepStrictEqual(harness.leaks("t0ken"), []);
        assert.deepStrictEqual(harness.leaks("parent-child"), ["inputs of p-child", "outputs of p-child", "command output"]);
    });

    it("destroy() runs deletes in reverse order with the previous stdout in the environment", async () => {
        const logFile = path.join(dir, "order");
        await runProgram(harness, () => {
            const a = new command.local.Command("a", { create: "echo made-a", delete: `echo "a:$PULUMI_COMMAND_STDOUT" >> ${logFile}` });
            new command.local.Command("b", { create: pulumi.interpolate`echo after-${a.stdout}`, delete: `echo "b:$PULUMI_COMMAND_STDOUT" >> ${logFile}` });
        });
        assert.ok(!fs.existsSync(logFile), "nothing deleted before destroy()");
        await harness.destroy();
        assert.strictEqual(fs.readFileSync(logFile, "utf8"), "b:after-made-a\na:made-a\n");
    });

    it("destroy() runs every delete even when one fails, then reports the failure", async () => {
        const logFile = path.join(dir, "ran");
        await runProgram(harness, () => {
            const a = new command.local.Command("a", { create: "true", delete: `echo a >> ${logFile}` });
            new command.local.Command("b", { create: "true", delete: "echo gone-wrong >&2; exit 1" }, { dependsOn: a });
        });
        await assert.rejects(harness.destroy(), /gone-wrong/);
        assert.strictEqual(fs.readFileSync(logFile, "utf8"), "a\n");
    });

    it("echoes other providers' inputs with an id, and applies overrides", async () => {
        harness.override("test:index:Thing", (_args, inputs) => ({ address: `host-of-${inputs.size}` }));
        const { result } = await runProgram(harness, () => new Thing("t", 3));
        assert.strictEqual(await unwrap(result!.id), "t-id");
        assert.strictEqual(await unwrap(result!.address), "host-of-3");
    });
});

describe("test harness: command:remote's hostKey, as the provider reads it", () => {
    const sink = () => undefined;
    const conn = { host: "192.0.2.1", port: 2222, user: "u", privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----" };

    it("refuses a host key that does not parse, before dialling", async () => {
        await assert.rejects(runRemote("r", { connection: { ...conn, hostKey: "not a key" }, command: "true" }, sink), /^Error: r: failed to parse host key/);
        await assert.rejects(runRemote("r", { connection: { ...conn, hostKey: "ssh-ed25519 AAAA" }, command: "true" }, sink), /failed to parse host key/);
    });

    it("pins the key and its algorithm in a known_hosts of its own (StrictHostKeyChecking=yes), and accepts any key without one", async () => {
        // A fake ssh on PATH records its arguments and the known_hosts it was given.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "harness-hostkey-"));
        const saved = process.env.PATH;
        try {
            fs.writeFileSync(
                path.join(dir, "ssh"),
                `#!/bin/bash\nprintf '%s\\n' "$@" > ${dir}/args\nfor a in "$@"; do case "$a" in UserKnownHostsFile=*) cat "\${a#UserKnownHostsFile=}" > ${dir}/known 2>/dev/null ;; esac; done\nexit 0\n`,
                { mode: 0o755 },
            );
            process.env.PATH = `${dir}:${saved}`;
            const key = madeUpHostKey("pinned");
            await runRemote("r", { connection: { ...conn, hostKey: `${key} root@vm` }, command: "true" }, sink);
            const args = fs.readFileSync(path.join(dir, "args"), "utf8").split("\n");
            assert.ok(args.includes("StrictHostKeyChecking=yes") && args.includes("HostKeyAlgorithms=ssh-ed25519"), args.join(" "));
            assert.strictEqual(fs.readFileSync(path.join(dir, "known"), "utf8"), `[192.0.2.1]:2222 ${key}\n`);
            await runRemote("r", { connection: conn, command: "true" }, sink);
            assert.ok(fs.readFileSync(path.join(dir, "args"), "utf8").split("\n").includes("StrictHostKeyChecking=no"));
        } finally {
            process.env.PATH = saved;
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
