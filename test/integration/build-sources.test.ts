/**
 * Build secrets read at build time (`secrets: { ID: { env } | { file } }`) and SSH agent
 * forwarding (`ssh`), against the real docker + buildx + registry: what the `RUN` step saw is read
 * back from the pushed image through the registry's API; the secret values are looked for on every
 * process's command line while the build runs, and in the recorded inputs, outputs and logs.
 */
import * as assert from "assert";
import { ChildProcess, execFileSync, spawn } from "child_process";
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MultiPlatformImage } from "../../src/image/component";
import { MultiPlatformImageArgs } from "../../src/image/args";
import { HarnessSequence, loadTestEnv, RegistryClient, runProgram, TestEnv, unwrap } from "../harness";
import { watchCommandLines } from "../harness/leftovers";

const sha256Hex = (s: string) => createHash("sha256").update(s).digest("hex");

describe("MultiPlatformImage secrets from env/file and ssh forwarding (real builds)", function () {
    this.timeout(10 * 60_000);
    let env: TestEnv;
    let registry: RegistryClient;
    let dir: string;
    const harnesses = new HarnessSequence("build-sources-it");
    const suffix = randomBytes(4).toString("hex");
    const saved = { ...process.env };

    before(() => {
        env = loadTestEnv();
        registry = new RegistryClient({ url: env.registry.url, caCert: env.caCert });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "build-sources-"));
    });
    afterEach(() => {
        harnesses.disposeAll();
        for (const k of ["PP_TEST_TOKEN", "SSH_AUTH_SOCK"]) {
            if (saved[k] === undefined) delete process.env[k];
            else process.env[k] = saved[k];
        }
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    const build = async (name: string, args: Partial<MultiPlatformImageArgs> & Pick<MultiPlatformImageArgs, "context">) => {
        const harness = await harnesses.next();
        const out = await runProgram(harness, () => new MultiPlatformImage(name, { platforms: ["linux/amd64"], ...args }));
        return { ...out, harness };
    };

    it("env and file secrets reach RUN --mount=type=secret; no value in inputs, outputs, logs or any command line; a new value changes no input", async () => {
        const ctx = path.join(dir, "secrets");
        fs.mkdirSync(ctx);
        fs.writeFileSync(
            path.join(ctx, "Dockerfile"),
            // A secret mount is not part of the cache key: the run's suffix makes the step run.
            `FROM ${env.baseImage}\nRUN --mount=type=secret,id=tok,required=true --mount=type=secret,id=cfg,required=true ` +
                `echo ${suffix} && sha256sum /run/secrets/tok /run/secrets/cfg | cut -d' ' -f1 > /sums.txt\n`,
        );
        const token = `tok-${randomBytes(12).toString("hex")}`;
        const fileValue = `cfg-${randomBytes(12).toString("hex")}`;
        const file = path.join(dir, "cfg.txt");
        fs.writeFileSync(file, fileValue);
        process.env.PP_TEST_TOKEN = token;
        const repo = `sources/secrets-${suffix}`;
        const args = { context: ctx, tags: [`${env.registry.host}/${repo}:1`], secrets: { tok: { env: "PP_TEST_TOKEN" }, cfg: { file } } };

        const watcher = watchCommandLines([token, fileValue]);
        const { result, errors, harness } = await build("sec", args);
        const onCmdline = await watcher.stop();
        assert.deepStrictEqual(
            errors.map((e) => e.message),
            [],
        );
        const digests = await unwrap(result!.platformDigests);
        assert.strictEqual(await registry.readFile(repo, digests["linux/amd64"], "/sums.txt"), `${sha256Hex(token)}\n${sha256Hex(fileValue)}\n`);
        assert.deepStrictEqual(onCmdline, []);
        for (const value of [token, fileValue]) assert.deepStrictEqual(harness.leaks(value), [], value === token ? "token" : "file value");
        const cmd = harness.named("sec-build");
        assert.ok(!JSON.stringify(cmd.inputs).includes(token) && !JSON.stringify(cmd.inputs).includes(fileValue));

        // A rotated value: every input of the build command is the same, so the engine sees no change.
        process.env.PP_TEST_TOKEN = `${token}-rotated`;
        fs.writeFileSync(file, `${fileValue}-rotated`);
        const again = await harnesses.next();
        await runProgram(again, () => new MultiPlatformImage("sec", { platforms: ["linux/amd64"], ...args }));
        assert.deepStrictEqual(again.named("sec-build").inputs, cmd.inputs);
    });

    it("fails naming the id when the variable is not set or the file is missing, before buildx runs", async () => {
        const ctx = path.join(dir, "missing");
        fs.mkdirSync(ctx);
        fs.writeFileSync(path.join(ctx, "Dockerfile"), `FROM ${env.baseImage}\nRUN --mount=type=secret,id=tok true\n`);
        delete process.env.PP_TEST_TOKEN;
        const tags = [`${env.registry.host}/sources/missing-${suffix}:1`];
        const noVar = await build("novar", { context: ctx, tags, secrets: { tok: { env: "PP_TEST_TOKEN" } } });
        const message = noVar.errors.map((e) => e.message).join("\n");
        assert.match(message, /pulumi-buildx: secrets\.tok: the environment variable PP_TEST_TOKEN is not set where docker buildx runs/);
        assert.ok(!noVar.harness.logText().includes("building with"), "buildx did not run");
        const noFile = await build("nofile", { context: ctx, tags, secrets: { tok: { file: path.join(dir, "no-such-file") } } });
        assert.match(noFile.errors.map((e) => e.message).join("\n"), /pulumi-buildx: secrets\.tok: the file .*no-such-file is not there or not readable/);
        assert.strictEqual(await registry.has(`sources/missing-${suffix}`, "1"), false);
    });

    describe("ssh", () => {
        let agent: ChildProcess | undefined;
        after(() => agent?.kill());

        it("a RUN --mount=type=ssh step lists the test agent's key (ssh: [{ id: 'default' }])", async () => {
            // A test agent holding one new key.
            const sock = path.join(dir, "agent.sock");
            agent = spawn("ssh-agent", ["-D", "-a", sock], { stdio: "ignore" });
            for (let i = 0; i < 50 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 100));
            const key = path.join(dir, "id_test");
            execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `pp-${suffix}`, "-f", key]);
            execFileSync("ssh-add", [key], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: "pipe" });
            const fingerprint = execFileSync("ssh-keygen", ["-lf", `${key}.pub`], { encoding: "utf8" }).trim();

            // The image gets this machine's ssh-add with the libraries it loads (the base is busybox).
            const ctx = path.join(dir, "ssh");
            const ldd = execFileSync("ldd", [execFileSync("bash", ["-c", "command -v ssh-add"], { encoding: "utf8" }).trim()], { encoding: "utf8" });
            const files = ["/usr/bin/ssh-add", ...[...ldd.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1])];
            for (const f of files) {
                fs.mkdirSync(path.join(ctx, "root", path.dirname(f)), { recursive: true });
                fs.copyFileSync(fs.realpathSync(f), path.join(ctx, "root", f));
                fs.chmodSync(path.join(ctx, "root", f), 0o755);
            }
            fs.writeFileSync(
                path.join(ctx, "Dockerfile"),
                `FROM ${env.baseImage}\nCOPY root/ /\nRUN --mount=type=ssh echo ${suffix} && ssh-add -l > /keys.txt\n`,
            );
            process.env.SSH_AUTH_SOCK = sock;
            const repo = `sources/ssh-${suffix}`;
            const { result, errors, harness } = await build("ssh", { context: ctx, tags: [`${env.registry.host}/${repo}:1`], ssh: [{ id: "default" }] });
            assert.deepStrictEqual(
                errors.map((e) => e.message),
                [],
            );
            const digests = await unwrap(result!.platformDigests);
            assert.strictEqual((await registry.readFile(repo, digests["linux/amd64"], "/keys.txt"))?.trim(), fingerprint);
            // Only the id is in the command; the socket path is read from SSH_AUTH_SOCK at build time.
            const create = harness.named("ssh-build").inputs.create as string;
            assert.match(create, / --ssh default /);
            assert.ok(!create.includes(sock), create);
        });
    });
});
